import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * hookgate as a package: `npm pack` (which builds dist/ through prepack), the tarball unpacked
 * as a consumer's `node_modules/hookgate` (its dependencies are the repository's, linked), and
 * the example app under examples/clinic synthesized with it, bundling included: the construct,
 * the lambda entries and the team's processor code all come from the packed package.
 */

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'clinic');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

interface Template {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, unknown>;
}

interface Statement {
  readonly Sid?: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
}

let work: string;
let consumer: string;
let tarball: string[];
let clinicOut: string;
let clinic: Template;

/** node_modules of the consumer: hookgate unpacked from the tarball, everything else linked to the repository's. */
function installPackage(tgz: string, into: string): void {
  const modules = join(into, 'node_modules');
  mkdirSync(join(modules, 'hookgate'), { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', join(modules, 'hookgate'), '--strip-components=1']);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'hookgate') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  // NodejsFunction finds the project by its lock file, as in any npm project.
  writeFileSync(join(into, 'package-lock.json'), JSON.stringify({ name: 'hookgate-example-clinic', lockfileVersion: 3, requires: true, packages: {} }));
}

/** Runs a TypeScript file of the consumer's with tsx; the cloud assembly goes to `out`. */
function synth(file: string, out: string): void {
  execFileSync(process.execPath, [TSX, file], {
    cwd: consumer,
    env: { ...process.env, CDK_OUTDIR: out, CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'us-east-1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function readTemplate(out: string, stack: string): Template {
  return JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8')) as Template;
}

function ofType(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

/** The staged bundle of a function, by the asset its code points at. */
function bundleOf(out: string, fn: Record<string, unknown>): string {
  const key = (fn.Code as { S3Key: string }).S3Key;
  return readFileSync(join(out, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
}

function functionOf(template: Template, description: string): Record<string, unknown> {
  const found = ofType(template, 'AWS::Lambda::Function').find(([, p]) => p.Description === description);
  if (found === undefined) throw new Error(`no function described ${description}`);
  return found[1];
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hookgate-package-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const tgz = readdirSync(work).find((name) => name.endsWith('.tgz'));
  if (tgz === undefined) throw new Error('npm pack wrote no tarball');
  tarball = execFileSync('tar', ['-tzf', join(work, tgz)], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^package\//, ''));

  consumer = join(work, 'clinic');
  cpSync(EXAMPLE, consumer, { recursive: true, filter: (src) => !/[\\/](node_modules|cdk\.out)$/.test(src) });
  installPackage(join(work, tgz), consumer);
  clinicOut = join(consumer, 'cdk.out');
  synth('bin/app.ts', clinicOut);
  clinic = readTemplate(clinicOut, 'clinic-webhooks');
}, 240_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('holds compiled JavaScript with declarations for every module of lib/ and lambda/, and the config schema', () => {
    for (const entry of ['dist/lib/index', 'dist/lib/runtime', 'dist/lib/hookgate', 'dist/lambda/verifier/index', 'dist/lambda/processor/entry']) {
      expect(tarball).toContain(`${entry}.js`);
      expect(tarball).toContain(`${entry}.d.ts`);
    }
    const js = tarball.filter((file) => file.endsWith('.js'));
    expect(js.every((file) => tarball.includes(file.replace(/\.js$/, '.d.ts')))).toBe(true);
    expect(tarball).toContain('config/schema.json');
    expect(tarball).toContain('package.json');
  });

  it('ships no TypeScript sources, tests, benches, local mode, examples or reference app', () => {
    expect(tarball.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(tarball.filter((file) => /^(dist\/)?(test|bench|local|bin|examples|scripts)\//.test(file))).toEqual([]);
    expect(tarball.filter((file) => /^config\//.test(file))).toEqual(['config/schema.json']);
  });

  it('points main, types and exports at files it ships', () => {
    const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', 'hookgate', 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      exports: Record<string, string | Record<string, string>>;
    };
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
    for (const target of targets) expect(tarball).toContain(target.replace(/^\.\//, ''));
  });

  it('hookgate/runtime loads without the CDK: code in a Lambda bundles it small', () => {
    const script = "require('hookgate/runtime'); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('aws-cdk-lib')).length))";
    const loaded = execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
    expect(loaded).toBe('0');
  });
});

describe('examples/clinic, built on the packed package', () => {
  const SOURCES = ['stripe', 'scheduling'];

  it('synthesizes the Hookgate construct inside the team\'s own stack', () => {
    const types = Object.values(clinic.Resources).map((r) => r.Type);
    for (const type of ['AWS::ApiGateway::RestApi', 'AWS::WAFv2::WebACL', 'AWS::KMS::Key', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SNS::Topic', 'AWS::CloudWatch::Dashboard']) {
      expect(types).toContain(type);
    }
    for (const source of SOURCES) {
      expect(functionOf(clinic, `hookgate ${source}: verify, dedupe, encrypt, enqueue`)).toBeDefined();
      expect(functionOf(clinic, `hookgate ${source}: decrypt and process`)).toBeDefined();
    }
    expect(Object.keys(clinic.Outputs ?? {}).filter((id) => id.startsWith('Webhooks'))).toEqual(expect.arrayContaining([expect.stringMatching(/^WebhooksWebhooksUrl/), expect.stringMatching(/^WebhooksAlarmTopicArn/)]));
  });

  it('gives each of its three destinations (http, lambda entry, eventbridge) a queue, a DLQ and a function, from the package\'s code', () => {
    // Two sources and three destinations, each with a queue and a DLQ.
    expect(ofType(clinic, 'AWS::SQS::Queue')).toHaveLength(2 * 2 + 3 * 2);
    const billing = bundleOf(clinicOut, functionOf(clinic, 'hookgate destination stripe/billing: deliver with retries'));
    expect(billing).toMatch(/webhook-signature/);
    expect(billing).not.toContain('aws-cdk-lib');
    // The team's ehr module behind hookgate's processor, in its own function only.
    expect(bundleOf(clinicOut, functionOf(clinic, "hookgate destination stripe/ehr: the team's handler"))).toContain('invoice paid: chart updated');
    expect(billing).not.toContain('invoice paid: chart updated');
    const bus = functionOf(clinic, 'hookgate destination stripe/bus: deliver with retries');
    const busRole = (bus.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const putEvents = [...ofType(clinic, 'AWS::IAM::Policy'), ...ofType(clinic, 'AWS::IAM::ManagedPolicy')]
      .filter(([, p]) => ((p.Roles as { Ref: string }[] | undefined) ?? []).some((r) => r.Ref === busRole))
      .flatMap(([, p]) => (p.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((st) => ([] as string[]).concat(st.Action).includes('events:PutEvents'));
    expect(JSON.stringify(putEvents.map((st) => st.Resource))).toContain('event-bus/clinical-events');
  });

  it('bundles hookgate\'s functions from the package\'s compiled lambda/ code', () => {
    const verifier = bundleOf(clinicOut, functionOf(clinic, 'hookgate stripe: verify, dedupe, encrypt, enqueue'));
    // Error class names survive minification (keepNames): the verifier's own code is in the bundle.
    expect(verifier).toMatch(/VerificationError|SignatureError|DedupeError|QueueError/);
    expect(verifier).not.toContain('aws-cdk-lib');
  });

  it('bundles the team\'s handlers module into its source\'s processor, and only there', () => {
    const scheduling = bundleOf(clinicOut, functionOf(clinic, 'hookgate scheduling: decrypt and process'));
    const stripe = bundleOf(clinicOut, functionOf(clinic, 'hookgate stripe: decrypt and process'));
    expect(scheduling).toContain('appointment.booked');
    expect(stripe).not.toContain('appointment.booked');
    expect(scheduling).not.toContain('aws-cdk-lib');
  });

  it('gives the team\'s extra grant to the scheduling processor only', () => {
    const roleOf = (description: string): unknown => functionOf(clinic, description).Role;
    const withSid = ofType(clinic, 'AWS::IAM::ManagedPolicy').filter(([, p]) => ((p.PolicyDocument as { Statement: Statement[] }).Statement ?? []).some((s) => s.Sid === 'ReadSchedulingApiKey'));
    expect(withSid).toHaveLength(1);
    const roles = (withSid[0]?.[1].Roles as { Ref: string }[]).map((ref) => ({ 'Fn::GetAtt': [ref.Ref, 'Arn'] }));
    expect(roles).toEqual([roleOf('hookgate scheduling: decrypt and process')]);
  });

  it('type-checks against the package\'s declarations (main, types, the runtime subpath)', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    expect(() => execFileSync(process.execPath, [tsc, '--noEmit', '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' })).not.toThrow();
  });

  it('keeps the config as written in the template: no path of the machine that synthesized it', () => {
    const text = JSON.stringify(clinic);
    expect(text).not.toContain(work);
    expect(text).not.toContain(ROOT);
  });
});
