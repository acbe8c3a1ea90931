import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type NamedSource, parseNamedSource } from '../../lambda/config/schema';
import { type ApiRoute, apiRoutes, stageName } from './api';
import { type CheckedCall, checkCall, type Policies, resourcePolicies, rolePolicy, violations } from './authorization';
import type { CallEnvironment } from './calls';
import { MOTO_ACCOUNT, MOTO_REGION, type Moto, startMoto } from './moto';
import { type RecordingProxy, startRecordingProxy } from './proxy';
import { ADMIN_ACCESS_KEY, type AdminClients, adminClients, createSecret, createTemplateResources, type CreatedQueue, type CreatedResources, resolveEnvironment } from './resources';
import { buildRunner, ExecutionEnvironment, type InvokeResult, runtimeModules } from './runtime/environment';
import { synthesize } from './synthesize';
import { asString, isObject, type Json, ofType, referencedId, type ShippedFunction, shippedFunctions, type Synthesized } from './template';

/**
 * Everything the shipped-bundle suite stands on: the synthesized environment, moto behind the
 * recording proxy, the template's resources and the sources' secrets in moto, and one execution
 * environment per function of the template.
 */

export const ROOT = join(__dirname, '..', '..');

/** A function of the template, running. */
export interface RunningFunction {
  readonly spec: ShippedFunction;
  readonly environment: ExecutionEnvironment;
  /** The environment the function got (template variables resolved, plus the runtime's). */
  readonly env: Readonly<Record<string, string>>;
  readonly accessKeyId: string;
  /** The role's identity policies and the template's resource policies. */
  readonly policies: Policies;
  readonly callEnvironment: CallEnvironment;
}

/** One invocation with the AWS calls it made, each checked against the role's policy. */
export interface Invocation<R> extends InvokeResult<R> {
  readonly calls: readonly CheckedCall[];
  /** Calls the role's policy does not allow, readable; empty when all were allowed. */
  readonly violations: readonly string[];
}

/** One source of the environment: its verifier, processor, queues and test secrets. */
export interface SourceUnderTest {
  readonly name: string;
  /** The source as the functions see it (HOOKGATE_SOURCE: no secret values). */
  readonly source: NamedSource;
  readonly verifier: RunningFunction;
  readonly processor: RunningFunction;
  readonly routes: readonly ApiRoute[];
  readonly queue: CreatedQueue & { readonly logicalId: string };
  readonly deadLetterQueueUrl: string;
  /** The values stored in Secrets Manager: the first signs. */
  readonly secrets: readonly string[];
  readonly verifyToken?: string;
}

export interface World {
  readonly synth: Synthesized;
  readonly moto: Moto;
  readonly proxy: RecordingProxy;
  readonly admin: AdminClients;
  readonly created: CreatedResources;
  readonly stage: string;
  readonly functions: readonly RunningFunction[];
  readonly sources: readonly SourceUnderTest[];
  invoke<R>(fn: RunningFunction, event: unknown): Promise<Invocation<R>>;
  /** Every recorded call, attributed to its function by access key (unknown keys: `undefined`). */
  attributedCalls(): { fn: RunningFunction | undefined; calls: CheckedCall[]; accessKeyId: string }[];
  close(): Promise<void>;
}

/**
 * Every recorded call the policies do not allow, readable: calls signed by no function's key,
 * calls that cannot be mapped to IAM terms, and checks that are not an allow. Empty when all were allowed.
 */
export function callProblems(world: Pick<World, 'attributedCalls'>): string[] {
  const problems: string[] = [];
  for (const group of world.attributedCalls()) {
    if (group.fn === undefined) {
      problems.push(`${group.calls.length} call(s) signed by ${group.accessKeyId}, which is no function's`);
      continue;
    }
    for (const c of group.calls) {
      if (c.unmapped !== undefined) problems.push(`${group.fn.spec.logicalId}: ${c.service} ${c.operation} cannot be checked: ${c.unmapped}`);
      for (const check of c.checks) if (check.decision.decision !== 'allow') problems.push(`${group.fn.spec.logicalId}: ${check.action} on ${check.resource}: ${JSON.stringify(check.decision)}`);
    }
  }
  return problems;
}

/** Test secrets per provider (a Standard Webhooks secret is `whsec_` + base64). */
function testSecret(source: NamedSource, n: number): string {
  if (source.provider === 'standard') return `whsec_${randomBytes(24).toString('base64')}`;
  return `shipped-${source.name}-${n}-${randomBytes(8).toString('hex')}`;
}

/**
 * The value stored in Secrets Manager: a plain string for a token source (the one-secret form),
 * else the JSON form with a previous secret for rotation and Meta's verify token.
 */
function secretValue(source: NamedSource, secrets: readonly string[], verifyToken: string | undefined): string {
  if (source.provider === 'token' && secrets[0] !== undefined) return secrets[0];
  return JSON.stringify(verifyToken === undefined ? { secrets } : { secrets, verifyToken });
}

/** The function's HOOKGATE_SOURCE, read through the config schema as the verifier reads it (no cast of its JSON). */
function parseSource(value: Json | undefined, where: string): NamedSource {
  try {
    return parseNamedSource(JSON.parse(asString(value, where)));
  } catch (err) {
    throw new Error(`${where}: not a source`, { cause: err });
  }
}

/** The Lambda runtime's own variables for one function (those the bundles or the SDK read). */
function runtimeVariables(fn: ShippedFunction, name: string, accessKeyId: string, endpoint: string, nodePath: string, logging: { format: string; level: string }): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `shipped/[$LATEST]${randomBytes(16).toString('hex')}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_FORMAT: logging.format,
    AWS_LAMBDA_LOG_LEVEL: logging.level,
    // The SDK warns at its first client when Node.js is below 22. Lambda runs the template's
    // runtime (nodejs24.x), where it never does: silenced when this host's Node.js is older.
    ...(Number(process.versions.node.split('.')[0]) < 22 ? { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } : {}),
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    LAMBDA_TASK_ROOT: fn.codeDir,
    _HANDLER: fn.handler,
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    // Temporary credentials of the role's session; the access key tells the proxy who called.
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('base64'),
    AWS_SESSION_TOKEN: randomBytes(32).toString('base64'),
    // The SDK v3 takes every client's endpoint from here (service-specific endpoints setting).
    AWS_ENDPOINT_URL: endpoint,
    // Nothing from this machine's AWS configuration may leak in.
    AWS_CONFIG_FILE: join(nodePath, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(nodePath, 'no-aws-credentials'),
    NODE_PATH: nodePath,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: '/usr/local/bin:/usr/bin:/bin',
  };
}

function loggingOf(synth: Synthesized, id: string): { format: string; level: string } {
  const config = synth.resources[id]?.Properties.LoggingConfig;
  if (!isObject(config)) return { format: 'Text', level: 'INFO' };
  return { format: typeof config.LogFormat === 'string' ? config.LogFormat : 'Text', level: typeof config.ApplicationLogLevel === 'string' ? config.ApplicationLogLevel : 'INFO' };
}

/** Options of {@link startWorld}. */
export interface WorldOptions {
  /** The folder holding `<environment>.json`. @default the reference app's config/ */
  readonly configDir?: string;
}

/** Synthesizes `environment`, starts moto and the proxy, creates resources and secrets, starts every function. */
export async function startWorld(environment: string, options: WorldOptions = {}): Promise<World> {
  // moto takes seconds to start: let it while the app synthesizes.
  const motoStarting = startMoto();
  motoStarting.catch(() => undefined);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const synth = synthesize(environment, options.configDir ?? join(ROOT, 'config'));
    const outdir = synth.outdir;
    cleanups.push(async () => rmSync(outdir, { recursive: true, force: true }));
    const moto = await motoStarting;
    cleanups.push(() => moto.stop());
    const proxy = await startRecordingProxy(moto.endpoint);
    cleanups.push(() => proxy.close());
    const admin = adminClients(proxy.endpoint);
    cleanups.push(async () => admin.destroy());
    const created = await createTemplateResources(synth, admin);
    const stage = stageName(synth);
    const routes = apiRoutes(synth);
    const specs = shippedFunctions(synth);
    const runner = buildRunner(synth.outdir, join(ROOT, 'node_modules', '.bin', 'esbuild'));
    const nodePath = runtimeModules(synth.outdir, join(ROOT, 'node_modules'));

    // Secrets first: the verifiers read them on their first request.
    const secretArns: Record<string, string> = {};
    const secretsBySource = new Map<string, { secrets: string[]; verifyToken?: string }>();
    const creating: Promise<void>[] = [];
    for (const spec of specs) {
      const source = spec.environment.HOOKGATE_SOURCE === undefined ? undefined : parseSource(spec.environment.HOOKGATE_SOURCE, `${spec.logicalId} HOOKGATE_SOURCE`);
      const secretName = source?.secretName;
      if (source === undefined || secretName === undefined || secretsBySource.has(source.name)) continue;
      const secrets = [testSecret(source, 1), testSecret(source, 2)];
      const verifyToken = source.provider === 'meta' ? `verify-${randomBytes(6).toString('hex')}` : undefined;
      secretsBySource.set(source.name, verifyToken === undefined ? { secrets } : { secrets, verifyToken });
      creating.push(createSecret(admin, secretName, secretValue(source, secrets, verifyToken)).then((secretArn) => void (secretArns[secretName] = secretArn)));
    }
    await Promise.all(creating);

    const resources = resourcePolicies(synth, created.resolver, MOTO_ACCOUNT);
    const functions: RunningFunction[] = specs.map((spec, index) => {
      const physical = created.resolver.get(spec.logicalId)?.ref ?? spec.logicalId;
      const accessKeyId = `ASIASHIPPED${String(index).padStart(9, '0')}`;
      const env = {
        ...runtimeVariables(spec, physical, accessKeyId, proxy.endpoint, nodePath, loggingOf(synth, spec.logicalId)),
        ...resolveEnvironment(created.resolver, spec.environment),
      };
      const roleArn = created.resolver.get(spec.roleLogicalId)?.attributes.Arn ?? '';
      const partitionKeys = Object.fromEntries(Object.values(created.tables).map((t) => [t.name, t.partitionKey]));
      return {
        spec,
        env,
        accessKeyId,
        policies: { role: rolePolicy(synth, created.resolver, spec.roleLogicalId), roleArn, resources },
        callEnvironment: { account: MOTO_ACCOUNT, partitionKeys, secretArns, principalArn: roleArn },
        environment: new ExecutionEnvironment(spec.logicalId, runner, spec.codeDir, env, spec.timeoutSeconds * 1000),
      };
    });
    cleanups.push(async () => {
      await Promise.all(functions.map((f) => f.environment.stop()));
    });
    await Promise.all(functions.map((f) => f.environment.ready()));

    const byId = new Map(functions.map((f) => [f.spec.logicalId, f]));
    const sources: SourceUnderTest[] = [];
    for (const verifier of functions) {
      const own = routes.filter((r) => r.functionLogicalId === verifier.spec.logicalId);
      if (own.length === 0) continue;
      const source = parseSource(verifier.spec.environment.HOOKGATE_SOURCE, `${verifier.spec.logicalId} HOOKGATE_SOURCE`);
      const queueId = referencedId(verifier.spec.environment.HOOKGATE_QUEUE_URL);
      const queue = queueId === undefined ? undefined : created.queues[queueId];
      if (queueId === undefined || queue === undefined) throw new Error(`${verifier.spec.logicalId}: HOOKGATE_QUEUE_URL names no queue of the template`);
      const mapping = ofType(synth, 'AWS::Lambda::EventSourceMapping')
        .map((id) => synth.resources[id]?.Properties ?? {})
        .find((p) => referencedId(p.EventSourceArn) === queueId);
      const processor = byId.get(referencedId(mapping?.FunctionName) ?? '');
      if (processor === undefined) throw new Error(`${source.name}: no function consumes ${queueId}`);
      const queueProps = synth.resources[queueId]?.Properties ?? {};
      const redrive = created.resolver.resolve(queueProps.RedrivePolicy ?? null);
      const dlqArn = isObject(redrive) && typeof redrive.deadLetterTargetArn === 'string' ? redrive.deadLetterTargetArn : '';
      const dlq = Object.values(created.queues).find((q) => q.arn === dlqArn);
      const secrets = secretsBySource.get(source.name);
      sources.push({
        name: source.name,
        source,
        verifier,
        processor,
        routes: own,
        queue: { ...queue, logicalId: queueId },
        deadLetterQueueUrl: dlq?.url ?? '',
        secrets: secrets?.secrets ?? [],
        ...(secrets?.verifyToken !== undefined ? { verifyToken: secrets.verifyToken } : {}),
      });
    }

    const check = (fn: RunningFunction, from: number, to: number): CheckedCall[] =>
      proxy.calls
        .slice(from, to)
        .filter((c) => c.request.headers.authorization?.includes(`Credential=${fn.accessKeyId}/`) === true)
        .map((c) => checkCall(c, fn.policies, fn.callEnvironment));

    const world: World = {
      synth,
      moto,
      proxy,
      admin,
      created,
      stage,
      functions,
      sources,
      async invoke<R>(fn: RunningFunction, event: unknown): Promise<Invocation<R>> {
        const from = proxy.calls.length;
        const result = await fn.environment.invoke<R>(event);
        const calls = check(fn, from, proxy.calls.length);
        return { ...result, calls, violations: violations(fn.spec.logicalId, calls, fn.policies.role) };
      },
      attributedCalls() {
        const keys = new Map(functions.map((f) => [f.accessKeyId, f]));
        const groups = new Map<string, CheckedCall[]>();
        for (const call of proxy.calls) {
          const key = /Credential=([^/]+)\//.exec(call.request.headers.authorization ?? '')?.[1] ?? '(unsigned)';
          if (key === ADMIN_ACCESS_KEY) continue;
          const fn = keys.get(key);
          const checked = fn === undefined ? { seq: call.seq, service: '?', operation: `${call.request.method} ${call.request.url}`, status: call.status, checks: [] } : checkCall(call, fn.policies, fn.callEnvironment);
          groups.set(key, [...(groups.get(key) ?? []), checked]);
        }
        return [...groups].map(([accessKeyId, calls]) => ({ accessKeyId, fn: keys.get(accessKeyId), calls }));
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      },
    };
    return world;
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await motoStarting.then((m) => m.stop()).catch(() => undefined);
    throw err;
  }
}
