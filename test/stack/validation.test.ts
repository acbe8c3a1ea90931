import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { type EnvironmentConfigInput, namedSource, type SourceConfigInput } from '../../lambda/config/schema';
import { addCompliancePacks, addHookgateStacks, deployableEnvironments, newHookgateApp, stackName } from '../../lib/app';
import { ConfigError } from '../../lib/config-file';
import { publicSource } from '../../lib/constructs/source-cell';
import { HookgateStack } from '../../lib/hookgate-stack';
import { HookgateStackError, MAX_SOURCES, validateStackInput } from '../../lib/stack-props';
import { CONFIG_DIR } from './helpers';

const github: SourceConfigInput = { provider: 'github', secretName: 'hookgate/dev/github' };
const valid: EnvironmentConfigInput = { sources: { github }, alarms: { email: 'oncall@example.com' } };

function problemsOf(environmentName: string, config: EnvironmentConfigInput): readonly string[] {
  try {
    validateStackInput(environmentName, config);
  } catch (err) {
    if (err instanceof HookgateStackError) return err.problems;
    throw err;
  }
  return [];
}

describe('stack input validation', () => {
  it('accepts a deployable config', () => {
    expect(problemsOf('dev', valid)).toEqual([]);
  });

  it.each<[string, string, EnvironmentConfigInput, RegExp]>([
    ['an environment name that is not a lowercase word', 'Dev_1', valid, /environmentName must be lowercase/],
    ['the local-only environment', 'local', valid, /local mode only/],
    ['the name of the config files\' JSON Schema', 'schema', valid, /environment schema is reserved: config\/schema\.json is the JSON Schema/],
    ['inline secrets', 'local', { ...valid, sources: { github: { provider: 'github', secrets: ['s'] } } }, /sources\.github\.secrets: a deployed stack never holds secret values/],
    ['an inline verify token', 'local', { ...valid, sources: { wa: { provider: 'meta', secretName: 'x', verifyToken: 't' } } }, /sources\.wa\.verifyToken: a deployed stack keeps it in the secret/],
    ['a source without secretName', 'dev', { ...valid, sources: { github: { provider: 'github' } } }, /sources\.github\.secretName is required/],
    ['no on-call email', 'dev', { sources: { github } }, /alarms\.email is required/],
    ['more sources than one stack holds', 'dev', { ...valid, sources: Object.fromEntries(Array.from({ length: MAX_SOURCES + 1 }, (_, i) => [`s${i}`, github])) }, /at most 16 per stack/],
    ['an invalid config field', 'dev', { ...valid, sources: { github: { ...github, batchSize: 11 } } }, /sources\.github\.batchSize must be a whole number from 1 to 10/],
    ['an invalid allow-list', 'dev', { ...valid, sources: { github: { ...github, allowedIps: ['10.0.0.1'] } } }, /sources\.github\.allowedIps\[0\] must be a CIDR/],
  ])('refuses %s', (_what, env, config, problem) => {
    expect(() => validateStackInput(env, config)).toThrow(HookgateStackError);
    expect(problemsOf(env, config)).toContainEqual(expect.stringMatching(problem));
  });

  it('collects every problem in one error', () => {
    const problems = problemsOf('Prod', { sources: { github: { provider: 'github' } } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/environmentName/),
        expect.stringMatching(/secretName is required/),
        expect.stringMatching(/alarms\.email is required/),
      ]),
    );
  });

  it('the stack refuses an invalid config before creating anything', () => {
    const app = newHookgateApp();
    expect(() => new HookgateStack(app, 'bad', { environmentName: 'dev', config: { sources: { github } } })).toThrow(/alarms\.email is required/);
    expect(app.node.children).toHaveLength(0);
  });
});

describe('the functions see no secret values', () => {
  it('publicSource drops secrets and verifyToken and keeps the rest', () => {
    const full = namedSource({ name: 'wa', provider: 'meta', secrets: ['s3cret'], verifyToken: 't0ken', maxBodyBytes: 5 });

    const source = publicSource(full);

    expect(Object.keys(source)).not.toEqual(expect.arrayContaining(['secrets']));
    expect(Object.keys(source)).not.toEqual(expect.arrayContaining(['verifyToken']));
    expect(JSON.stringify(source)).not.toMatch(/s3cret|t0ken/);
    expect(source).toEqual({ ...full, secrets: undefined, verifyToken: undefined });
  });
});

describe('the CDK app', () => {
  it('deploys every config except local-only ones', () => {
    expect(deployableEnvironments(CONFIG_DIR)).toEqual(['dev', 'prod']);
  });

  it('ignores local and test configs wherever they are', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-config-'));
    for (const env of ['local', 'test', 'staging']) writeFileSync(join(dir, `${env}.json`), '{}');
    writeFileSync(join(dir, 'notes.txt'), '');
    expect(deployableEnvironments(dir)).toEqual(['staging']);
  });

  it('never takes the JSON Schema beside the configs for an environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-config-'));
    for (const file of ['schema.json', 'staging.json']) writeFileSync(join(dir, file), '{}');

    expect(deployableEnvironments(dir)).toEqual(['staging']);
    expect(deployableEnvironments(CONFIG_DIR)).not.toContain('schema');
  });

  it('refuses -c env=schema, naming the file for what it is', () => {
    expect(() => addHookgateStacks(newHookgateApp(), { configDir: CONFIG_DIR, environment: 'schema' })).toThrow(/schema\.json is the JSON Schema of the config files, not an environment/);
  });

  it('refuses a config file the schema refuses, naming the file, the environment and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookgate-config-'));
    const file = join(dir, 'staging.json');
    writeFileSync(file, JSON.stringify({ sources: { github }, alarms: { email: 'oncall@example.com' }, rateLimit: { windowSeconds: 30 } }));

    const build = (): unknown => addHookgateStacks(newHookgateApp(), { configDir: dir, environment: 'staging' });

    expect(build).toThrow(ConfigError);
    expect(build).toThrow(`${file} is invalid (environment staging):\n  - rateLimit.windowSeconds must be 60, 120, 300 or 600`);
  });

  it('names each stack after its environment', () => {
    expect(stackName('prod')).toBe('hookgate-prod');
  });
});

describe('compliance packs', () => {
  it('make synthesis fail on an unacknowledged finding', () => {
    const app = newHookgateApp();
    const stack = new Stack(app, 'unacknowledged');
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    addCompliancePacks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4|HIPAA\.Security-SQSQueue/);
  }, 60_000); // a full synth with every validation plugin
});
