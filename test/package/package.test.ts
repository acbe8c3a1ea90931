import { execFileSync, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';

/**
 * hookgate as a package: `npm pack` (which builds dist/ through prepack), the tarball unpacked
 * as a consumer's `node_modules/hookgate` (its dependencies are the repository's, linked), and
 * the example app under examples/clinic synthesized with it, bundling included: the construct,
 * the lambda entries and the team's processor code all come from the packed package. The
 * consumer gets none of hookgate's devDependencies (the emulators among them) unless it declares
 * them itself, and its `node_modules/.bin/hookgate` runs the packed command.
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

interface Manifest {
  readonly main: string;
  readonly types: string;
  readonly bin: Record<string, string>;
  readonly exports: Record<string, string | Record<string, string>>;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

const readManifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/**
 * node_modules of the consumer, as npm would install it: hookgate unpacked from the tarball, its
 * `bin` linked under .bin (executable, as npm's bin-links does), and every other package linked to
 * the repository's, except hookgate's devDependencies that the consumer does not declare itself.
 */
function installPackage(tgz: string, into: string): void {
  const modules = join(into, 'node_modules');
  mkdirSync(join(modules, 'hookgate'), { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', join(modules, 'hookgate'), '--strip-components=1']);
  const own = readManifest(into) as Partial<Manifest>;
  const declared = new Set([...Object.keys(own.dependencies ?? {}), ...Object.keys(own.devDependencies ?? {})]);
  const devOnly = new Set(Object.keys(readManifest(ROOT).devDependencies).filter((name) => !declared.has(name)));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'hookgate' || name === '.bin') continue;
    if (name.startsWith('@')) {
      const kept = readdirSync(join(ROOT, 'node_modules', name)).filter((sub) => !devOnly.has(`${name}/${sub}`));
      mkdirSync(join(modules, name));
      for (const sub of kept) symlinkSync(join(ROOT, 'node_modules', name, sub), join(modules, name, sub));
    } else if (!devOnly.has(name)) {
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
    }
  }
  mkdirSync(join(modules, '.bin'));
  for (const [command, target] of Object.entries(readManifest(join(modules, 'hookgate')).bin)) {
    chmodSync(join(modules, 'hookgate', target), 0o755);
    symlinkSync(join('..', 'hookgate', target), join(modules, '.bin', command));
  }
  // NodejsFunction finds the project by its lock file, as in any npm project.
  writeFileSync(join(into, 'package-lock.json'), JSON.stringify({ name: 'hookgate-example-clinic', lockfileVersion: 3, requires: true, packages: {} }));
}

/** The packages a shipped file requires, with every file it requires in the package, transitively. */
function packagesRequiredFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
      if (specifier === undefined) continue;
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        queue.push(existsSync(`${target}.js`) ? `${target}.js` : join(target, 'index.js'));
      } else {
        packages.add(specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/'));
      }
    }
  }
  return packages;
}

/** A loopback port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** Runs the consumer's `node_modules/.bin/hookgate` (found by its shebang, node on the PATH). */
function hookgate(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const PATH = [dirname(process.execPath), process.env.PATH ?? ''].join(delimiter);
  const run = spawnSync(join(consumer, 'node_modules', '.bin', 'hookgate'), [...args], { cwd: consumer, env: { ...process.env, PATH }, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
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
    expect(tarball.filter((file) => /^(dist\/)?(test|bench|bin|local|examples|scripts)\//.test(file) && !/^dist\/(bin|local)\//.test(file))).toEqual([]);
    expect(tarball.filter((file) => /^config\//.test(file))).toEqual(['config/schema.json']);
  });

  it('ships the hookgate command: dist/cli, its bin and only the local/ modules it needs (no emulator)', () => {
    expect(tarball).toContain('dist/cli/main.js');
    expect(tarball).toContain('dist/bin/hookgate-cli.js');
    expect(tarball.filter((file) => file.startsWith('dist/bin/') && !file.startsWith('dist/bin/hookgate-cli.'))).toEqual([]);
    const local = tarball.filter((file) => file.startsWith('dist/local/')).map((file) => file.replace(/^dist\/local\/|\.(d\.ts|js)$/g, ''));
    expect([...new Set(local)].sort()).toEqual(['args', 'endpoints', 'kms', 'state']);
  });

  it('points main, types and exports at files it ships', () => {
    const manifest = readManifest(join(consumer, 'node_modules', 'hookgate'));
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...Object.values(manifest.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
    for (const target of targets) expect(tarball).toContain(target.replace(/^\.\//, ''));
  });

  it('hookgate/runtime loads without the CDK: code in a Lambda bundles it small', () => {
    const script = "require('hookgate/runtime'); process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('aws-cdk-lib')).length))";
    const loaded = execFileSync(process.execPath, ['-e', script], { cwd: consumer, encoding: 'utf8' });
    expect(loaded).toBe('0');
  });
});

describe('the hookgate command, installed from the package', () => {
  const installed = (): string => join(consumer, 'node_modules', 'hookgate');

  it('requires only node built-ins and the package\'s dependencies, never a devDependency', () => {
    const manifest = readManifest(installed());
    const required = [...packagesRequiredFrom(join(installed(), manifest.bin.hookgate ?? ''))];
    expect(required).toEqual(expect.arrayContaining(['@aws-sdk/client-cloudformation', '@aws-sdk/client-sts', '@aws-sdk/client-cloudwatch-logs']));
    expect(required.filter((name) => !builtinModules.includes(name.replace(/^node:/, '')) && manifest.dependencies[name] === undefined)).toEqual([]);
  });

  it('runs where the emulators are not installed: the consumer has no dynalite or fauxqs', () => {
    for (const name of ['dynalite', 'fauxqs']) {
      expect(existsSync(join(consumer, 'node_modules', name))).toBe(false);
      expect(() => require.resolve(name, { paths: [installed()] })).toThrow();
    }
    const run = hookgate(['--help']);
    expect(run.status).toBe(0);
    for (const command of ['status', 'events list', 'events show', 'replay', 'dlq redrive', 'destinations pause', 'audit list']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  it('exits 2 on a usage error, with one line on stderr and no stack trace', () => {
    const run = hookgate(['events', 'list', '--local', '--sorce', 'stripe']);
    expect(run.status).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringContaining("'--sorce'")]);
    expect(run.stderr).not.toMatch(/\bat .+:\d+:\d+/);
  });

  it('exits 1 with one clear line when no local run is there (no state file)', async () => {
    const port = await freePort();
    const run = hookgate(['status', '--local', '--port', String(port)]);
    expect(run.status).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([`hookgate: no local hookgate on port ${port} (${join(consumer, '.hookgate', `local-${port}.json`)} not found): run npm start, or pass --port`]);
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
