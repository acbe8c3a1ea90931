import { type CallEnvironment, mapCall, signerOf } from './calls';
import { authorize, type AuthorizationRequest, type Decision, type Statement } from './policy';
import type { RecordedCall } from './proxy';
import { asArray, isObject, type Json, ofType, referencedId, type Resolver, type Synthesized } from './template';

/**
 * The policies of the template, resolved to the moto resources: those attached to a function's
 * role, and the queue, bucket and key policies its calls meet; and the check of recorded calls
 * against them.
 *
 * Why not moto's own IAM enforcement (INITIAL_NO_AUTH_ACTION_COUNT with a user per function):
 * moto authorizes every service but S3 against the resource `*` and evaluates no Condition of an
 * identity policy (moto/iam/access_control.py says so; getmoto/moto#6514), so the template's
 * resource-scoped statements would deny everything and its conditions would go unchecked. Reading
 * the wire and deciding here checks the real ARNs and conditions, and names what it cannot decide.
 */

export interface RolePolicy {
  readonly statements: readonly Statement[];
  /** Attachments the suite cannot evaluate (AWS managed policies, permission boundaries). */
  readonly unevaluable: readonly string[];
}

const strings = (value: Json | undefined): string[] | undefined => {
  if (value === undefined) return undefined;
  return asArray(value).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
};

function toStatement(value: Json, where: string): Statement {
  if (!isObject(value)) throw new Error(`${where}: a statement is not an object`);
  const effect = value.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') throw new Error(`${where}: Effect ${JSON.stringify(effect)}`);
  const condition: Record<string, Record<string, string[]>> = {};
  if (isObject(value.Condition)) {
    for (const [operator, keys] of Object.entries(value.Condition)) {
      if (!isObject(keys)) throw new Error(`${where}: condition ${operator} is not an object`);
      condition[operator] = Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, asArray(v).map(String)]));
    }
  }
  return {
    Effect: effect,
    ...(typeof value.Sid === 'string' ? { Sid: value.Sid } : {}),
    ...(value.Action !== undefined ? { Action: strings(value.Action) } : {}),
    ...(value.NotAction !== undefined ? { NotAction: strings(value.NotAction) } : {}),
    ...(value.Resource !== undefined ? { Resource: strings(value.Resource) } : {}),
    ...(value.NotResource !== undefined ? { NotResource: strings(value.NotResource) } : {}),
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

function documentStatements(doc: Json | undefined, resolver: Resolver, where: string): Statement[] {
  const resolved = resolver.resolve(doc ?? null);
  if (!isObject(resolved)) throw new Error(`${where}: no policy document`);
  return asArray(resolved.Statement).map((s, i) => toStatement(s, `${where} statement ${i + 1}`));
}

/** Every identity policy of a role: inline, AWS::IAM::Policy and AWS::IAM::ManagedPolicy attachments. */
export function rolePolicy(synth: Synthesized, resolver: Resolver, roleId: string): RolePolicy {
  const role = synth.resources[roleId];
  if (role === undefined || role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role of the template`);
  const statements: Statement[] = [];
  const unevaluable: string[] = [];
  for (const [i, policy] of asArray(role.Properties.Policies).entries()) {
    if (isObject(policy)) statements.push(...documentStatements(policy.PolicyDocument, resolver, `${roleId} inline policy ${i + 1}`));
  }
  const attachedManaged = new Set<string>();
  for (const arn of asArray(role.Properties.ManagedPolicyArns)) {
    const id = referencedId(arn);
    if (id !== undefined && synth.resources[id]?.Type === 'AWS::IAM::ManagedPolicy') attachedManaged.add(id);
    else unevaluable.push(`${roleId} has the managed policy ${JSON.stringify(arn)}, which is not in the template`);
  }
  if (role.Properties.PermissionsBoundary !== undefined) unevaluable.push(`${roleId} has a permissions boundary`);
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const id of ofType(synth, type)) {
      const p = synth.resources[id]?.Properties ?? {};
      const roles = asArray(p.Roles).map(referencedId);
      if (roles.includes(roleId) || attachedManaged.has(id)) statements.push(...documentStatements(p.PolicyDocument, resolver, id));
    }
  }
  return { statements, unevaluable };
}

/** Who a resource policy statement names. */
type PrincipalMatch = { readonly kind: 'any' } | { readonly kind: 'account' } | { readonly kind: 'arns'; readonly arns: readonly string[] } | { readonly kind: 'service' };

function principalOf(value: Json | undefined, account: string): PrincipalMatch {
  if (value === '*') return { kind: 'any' };
  if (!isObject(value) || value.AWS === undefined) return { kind: 'service' };
  const names = asArray(value.AWS).map(String);
  if (names.includes('*')) return { kind: 'any' };
  if (names.some((n) => n === account || n === `arn:aws:iam::${account}:root`)) return { kind: 'account' };
  return { kind: 'arns', arns: names };
}

/** A resource-based policy of the template (queue, bucket or key policy), resolved. */
export interface ResourcePolicy {
  readonly owner: string;
  /** For a key policy: the key's ARN (its statements' `*` means this key). */
  readonly keyArn?: string;
  readonly statements: readonly { readonly statement: Statement; readonly principal: PrincipalMatch }[];
}

/** The queue, bucket and key policies of the template. */
export function resourcePolicies(synth: Synthesized, resolver: Resolver, account: string): ResourcePolicy[] {
  const read = (owner: string, doc: Json | undefined, keyArn?: string): ResourcePolicy => {
    const resolved = resolver.resolve(doc ?? null);
    const statements = asArray(isObject(resolved) ? resolved.Statement : null).map((raw, i) => ({
      statement: toStatement(raw, `${owner} statement ${i + 1}`),
      principal: principalOf(isObject(raw) ? raw.Principal : undefined, account),
    }));
    return keyArn === undefined ? { owner, statements } : { owner, keyArn, statements };
  };
  return [
    ...ofType(synth, 'AWS::SQS::QueuePolicy').map((id) => read(id, synth.resources[id]?.Properties.PolicyDocument)),
    ...ofType(synth, 'AWS::S3::BucketPolicy').map((id) => read(id, synth.resources[id]?.Properties.PolicyDocument)),
    ...ofType(synth, 'AWS::KMS::Key').map((id) => read(id, synth.resources[id]?.Properties.KeyPolicy, resolver.get(id)?.attributes.Arn ?? id)),
  ];
}

/** A role's identity policy and the resource policies it meets. */
export interface Policies {
  readonly role: RolePolicy;
  readonly roleArn: string;
  readonly resources: readonly ResourcePolicy[];
}

/**
 * IAM's decision within one account: an explicit Deny in the role's policy or in the resource's
 * policy wins; a KMS key is usable only if its key policy allows the role, directly or by
 * delegating to the account's IAM policies (the `:root` statement) which then must allow; any
 * other resource is usable if the role's policy or the resource's policy allows it.
 */
export function decide(policies: Policies, request: AuthorizationRequest): Decision {
  const applicable = policies.resources.filter((p) => p.keyArn === undefined || p.keyArn === request.resource);
  const named = (p: PrincipalMatch): boolean => p.kind === 'any' || (p.kind === 'arns' && p.arns.includes(policies.roleArn));
  const labelled = (owner: string, st: Statement): Statement => ({ ...st, Sid: `${owner} ${st.Sid ?? st.Effect}` });
  const direct = applicable.flatMap((p) => p.statements.filter((s) => named(s.principal)).map((s) => labelled(p.owner, s.statement)));
  const identity = authorize(policies.role.statements, request);
  const resource = authorize(direct, request);
  for (const d of [identity, resource]) if (d.decision === 'deny' && d.reason === 'explicit') return d;
  const unknown = [identity, resource].flatMap((d) => (d.decision === 'unknown' ? d.reasons : []));
  if (unknown.length > 0) return { decision: 'unknown', reasons: unknown };
  if (request.action.toLowerCase().startsWith('kms:')) {
    const keyPolicy = applicable.find((p) => p.keyArn === request.resource);
    if (keyPolicy === undefined) return { decision: 'unknown', reasons: [`the key ${request.resource} has no key policy in the template`] };
    if (resource.decision === 'allow') return resource;
    const delegating = keyPolicy.statements.filter((s) => s.principal.kind === 'account').map((s) => labelled(keyPolicy.owner, s.statement));
    const delegated = authorize(delegating, request);
    if (delegated.decision === 'unknown') return delegated;
    if (delegated.decision !== 'allow') return { decision: 'deny', reason: 'implicit', statement: `${keyPolicy.owner} does not let the account's IAM policies grant this` };
    return identity;
  }
  return identity.decision === 'allow' ? identity : resource.decision === 'allow' ? resource : identity;
}

/** One recorded call and what the policies say about it. */
export interface CheckedCall {
  readonly seq: number;
  readonly service: string;
  readonly operation: string;
  /** moto's status code for the call. */
  readonly status: number;
  readonly checks: readonly { readonly action: string; readonly resource: string; readonly decision: Decision }[];
  /** Why the call could not be mapped to IAM terms, when it could not. */
  readonly unmapped?: string;
}

export function checkCall(call: RecordedCall, policies: Policies, env: CallEnvironment): CheckedCall {
  const signer = signerOf(call.request);
  if (signer === undefined) return { seq: call.seq, service: '?', operation: `${call.request.method} ${call.request.url}`, status: call.status, checks: [], unmapped: 'unsigned request' };
  const mapped = mapCall(call.request, signer, env);
  if (mapped.kind === 'unmapped') return { seq: call.seq, service: signer.service, operation: mapped.operation, status: call.status, checks: [], unmapped: mapped.reason };
  return {
    seq: call.seq,
    service: signer.service,
    operation: mapped.operation,
    status: call.status,
    checks: mapped.requests.map((r) => ({ action: r.action, resource: r.resource, decision: decide(policies, r) })),
  };
}

/** Readable lines for every call the policy does not allow (denied, undecidable, unmapped). */
export function violations(function_: string, calls: readonly CheckedCall[], policy: RolePolicy): string[] {
  const out: string[] = [];
  for (const c of calls) {
    if (c.unmapped !== undefined) out.push(`${function_}: ${c.service} ${c.operation} cannot be checked: ${c.unmapped}`);
    for (const check of c.checks) {
      const d = check.decision;
      if (d.decision === 'allow') continue;
      const why = d.decision === 'deny' ? `${d.reason} deny${d.statement === undefined ? '' : ` by ${d.statement}`}` : `undecidable: ${d.reasons.join('; ')}`;
      const extra = policy.unevaluable.length > 0 ? ` (not evaluated: ${policy.unevaluable.join('; ')})` : '';
      out.push(`${function_}: ${check.action} on ${check.resource}: ${why}${extra}`);
    }
  }
  return out;
}
