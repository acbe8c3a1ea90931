import { type CallEnvironment, mapCall, signerOf } from './calls';
import { authorize, type Decision, type Statement } from './policy';
import type { RecordedCall } from './proxy';
import { asArray, isObject, type Json, ofType, referencedId, type Resolver, type Synthesized } from './template';

/**
 * The policies attached to a function's role in the template, resolved to the moto resources, and
 * the check of recorded calls against them.
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

/** One recorded call and what the role's policy says about it. */
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

export function checkCall(call: RecordedCall, policy: RolePolicy, env: CallEnvironment): CheckedCall {
  const signer = signerOf(call.request);
  if (signer === undefined) return { seq: call.seq, service: '?', operation: `${call.request.method} ${call.request.url}`, status: call.status, checks: [], unmapped: 'unsigned request' };
  const mapped = mapCall(call.request, signer, env);
  if (mapped.kind === 'unmapped') return { seq: call.seq, service: signer.service, operation: mapped.operation, status: call.status, checks: [], unmapped: mapped.reason };
  return {
    seq: call.seq,
    service: signer.service,
    operation: mapped.operation,
    status: call.status,
    checks: mapped.requests.map((r) => ({ action: r.action, resource: r.resource, decision: authorize(policy.statements, r) })),
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
