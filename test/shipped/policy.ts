/**
 * An IAM identity-policy evaluator for the calls the shipped bundles make: does the role's policy
 * allow this (action, resource, request context)? It follows IAM's rules for one account and
 * identity policies only:
 *
 * - an explicit Deny wins, then any Allow, else the call is denied implicitly;
 * - `Action`/`NotAction` match case-insensitively with `*` and `?`; `Resource`/`NotResource` match
 *   case-sensitively with `*` and `?`;
 * - every operator of a `Condition` and every key under an operator must hold (AND); the values
 *   of one key are alternatives (OR; NOR for a negated operator);
 * - a key absent from the request: false, except negated operators (true), `...IfExists` (true),
 *   `Null`, and `ForAllValues:` (true, vacuously);
 * - `ForAllValues:` / `ForAnyValue:` over multi-valued keys (`dynamodb:LeadingKeys`,
 *   `kms:EncryptionContextKeys`); an unqualified operator on a multi-valued key holds when any
 *   value does.
 *
 * What it cannot decide it says, instead of guessing: a condition on a key the caller does not
 * know how to fill in, an operator it does not implement (Date*, IpAddress, Binary*), a policy
 * variable. A statement it cannot decide makes the whole decision `unknown`, which fails a test
 * like a denial does, with the reason.
 */

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | boolean | number | readonly (string | boolean | number)[]>>>>;
}

/** The request context of one call. Keys are compared case-insensitively. */
export interface RequestContext {
  /** Present keys and their values (a single-valued key has one). */
  readonly values: Readonly<Record<string, readonly string[]>>;
  /**
   * Whether the caller knows a key absent from `values` is really absent from AWS's request
   * context (for example `kms:ViaService` on a direct call). A condition on any other absent key
   * cannot be decided.
   */
  readonly knowsAbsent: (key: string) => boolean;
}

export interface AuthorizationRequest {
  /** `service:Operation`, for example `dynamodb:PutItem`. */
  readonly action: string;
  /** The ARN of the resource (or `*` for actions without one). */
  readonly resource: string;
  readonly context: RequestContext;
}

export type Decision =
  | { readonly decision: 'allow'; readonly statement: string }
  | { readonly decision: 'deny'; readonly reason: 'explicit' | 'implicit'; readonly statement?: string }
  | { readonly decision: 'unknown'; readonly reasons: readonly string[] };

type Match = { readonly kind: 'yes' } | { readonly kind: 'no' } | { readonly kind: 'unknown'; readonly reason: string };

const YES: Match = { kind: 'yes' };
const NO: Match = { kind: 'no' };

const list = <T>(value: T | readonly T[] | undefined): readonly T[] => (value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T]);

const POLICY_VARIABLE = /\$\{(?![*?$]\})[^}]*\}/;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Wildcard matching: `*` any run of characters, `?` one character; IAM's escapes `${*}`, `${?}`
 * and `${$}` stand for the literal character. Other policy variables are refused by the callers.
 */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  let body = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const escaped = /^\$\{([*?$])\}/.exec(pattern.slice(i));
    if (escaped !== null) {
      body += escapeRegExp(escaped[1] as string);
      i += 3;
      continue;
    }
    const c = pattern[i] as string;
    body += c === '*' ? '.*' : c === '?' ? '.' : escapeRegExp(c);
  }
  return new RegExp(`^${body}$`, ignoreCase ? 'is' : 's').test(value);
}

function matchAny(patterns: readonly string[], value: string, ignoreCase: boolean, what: string): Match {
  for (const p of patterns) if (POLICY_VARIABLE.test(p)) return { kind: 'unknown', reason: `${what} uses the policy variable ${p}` };
  return patterns.some((p) => matches(p, value, ignoreCase)) ? YES : NO;
}

function actionMatch(s: Statement, action: string): Match {
  if (s.Action !== undefined) return matchAny(list(s.Action), action, true, 'Action');
  if (s.NotAction !== undefined) {
    const m = matchAny(list(s.NotAction), action, true, 'NotAction');
    return m.kind === 'unknown' ? m : m.kind === 'yes' ? NO : YES;
  }
  return NO;
}

function resourceMatch(s: Statement, resource: string): Match {
  if (s.Resource !== undefined) return matchAny(list(s.Resource), resource, false, 'Resource');
  if (s.NotResource !== undefined) {
    const m = matchAny(list(s.NotResource), resource, false, 'NotResource');
    return m.kind === 'unknown' ? m : m.kind === 'yes' ? NO : YES;
  }
  return NO;
}

type Comparator = (policyValue: string, requestValue: string) => boolean | undefined;

/** Base operators: the comparison and whether the operator is negated. */
const OPERATORS: Readonly<Record<string, { readonly compare: Comparator; readonly negated: boolean }>> = {
  StringEquals: { compare: (p, v) => p === v, negated: false },
  StringNotEquals: { compare: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { compare: (p, v) => matches(p, v, false), negated: false },
  StringNotLike: { compare: (p, v) => matches(p, v, false), negated: true },
  ArnEquals: { compare: (p, v) => matches(p, v, false), negated: false },
  ArnLike: { compare: (p, v) => matches(p, v, false), negated: false },
  ArnNotEquals: { compare: (p, v) => matches(p, v, false), negated: true },
  ArnNotLike: { compare: (p, v) => matches(p, v, false), negated: true },
  Bool: { compare: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  NumericEquals: { compare: numeric((a, b) => a === b), negated: false },
  NumericNotEquals: { compare: numeric((a, b) => a === b), negated: true },
  NumericLessThan: { compare: numeric((a, b) => b < a), negated: false },
  NumericLessThanEquals: { compare: numeric((a, b) => b <= a), negated: false },
  NumericGreaterThan: { compare: numeric((a, b) => b > a), negated: false },
  NumericGreaterThanEquals: { compare: numeric((a, b) => b >= a), negated: false },
};

function numeric(test: (policy: number, request: number) => boolean): Comparator {
  return (p, v) => {
    const a = Number(p);
    const b = Number(v);
    return Number.isFinite(a) && Number.isFinite(b) ? test(a, b) : undefined;
  };
}

function lookup(context: RequestContext, key: string): readonly string[] | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context.values)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** One operator over one key. */
function conditionMatch(operator: string, key: string, policyValues: readonly string[], context: RequestContext): Match {
  const what = `${operator} ${key}`;
  const set = /^(ForAllValues|ForAnyValue):/.exec(operator)?.[1];
  let base = set === undefined ? operator : operator.slice(set.length + 1);
  const ifExists = base.endsWith('IfExists');
  if (ifExists) base = base.slice(0, -'IfExists'.length);
  const values = lookup(context, key);
  if (values === undefined && !context.knowsAbsent(key)) return { kind: 'unknown', reason: `${what}: the suite cannot tell this key's value for this call` };
  if (base === 'Null') {
    const wantsAbsent = policyValues.some((p) => p.toLowerCase() === 'true');
    return (values === undefined) === wantsAbsent ? YES : NO;
  }
  const op = OPERATORS[base];
  if (op === undefined) return { kind: 'unknown', reason: `${what}: the operator ${base} is not implemented here` };
  for (const p of policyValues) if (POLICY_VARIABLE.test(p)) return { kind: 'unknown', reason: `${what} uses the policy variable ${p}` };
  if (values === undefined) {
    if (ifExists) return YES;
    if (set === 'ForAllValues') return YES;
    if (set === 'ForAnyValue') return NO;
    return op.negated ? YES : NO;
  }
  // One request value against the policy's values: OR for positive operators, NOR for negated.
  const holds = (v: string): boolean | undefined => {
    let any = false;
    for (const p of policyValues) {
      const r = op.compare(p, v);
      if (r === undefined) return undefined;
      any ||= r;
    }
    return op.negated ? !any : any;
  };
  const results = values.map(holds);
  if (results.some((r) => r === undefined)) return { kind: 'unknown', reason: `${what}: a value is not a number` };
  const ok =
    set === 'ForAllValues'
      ? results.every(Boolean)
      : set === 'ForAnyValue'
        ? results.some(Boolean)
        : op.negated
          ? results.every(Boolean)
          : results.some(Boolean);
  return ok ? YES : NO;
}

function conditionsMatch(s: Statement, context: RequestContext): Match {
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, raw] of Object.entries(keys)) {
      const m = conditionMatch(operator, key, list(raw).map(String), context);
      if (m.kind !== 'yes') return m;
    }
  }
  return YES;
}

function statementMatch(s: Statement, request: AuthorizationRequest): Match {
  for (const m of [actionMatch(s, request.action), resourceMatch(s, request.resource)]) if (m.kind !== 'yes') return m;
  return conditionsMatch(s, request.context);
}

const label = (s: Statement, index: number): string => s.Sid ?? `statement ${index + 1}`;

/** Decides one request against a role's statements (all its attached policies together). */
export function authorize(statements: readonly Statement[], request: AuthorizationRequest): Decision {
  const unknown: string[] = [];
  let allowedBy: string | undefined;
  for (const [i, s] of statements.entries()) {
    const m = statementMatch(s, request);
    if (m.kind === 'unknown') {
      unknown.push(`${label(s, i)} (${s.Effect}): ${m.reason}`);
      continue;
    }
    if (m.kind === 'no') continue;
    if (s.Effect === 'Deny') return { decision: 'deny', reason: 'explicit', statement: label(s, i) };
    allowedBy ??= label(s, i);
  }
  // An undecidable Deny could override the Allow; an undecidable Allow matters only without one.
  const undecidedDeny = unknown.filter((u) => u.includes('(Deny)'));
  if (undecidedDeny.length > 0) return { decision: 'unknown', reasons: undecidedDeny };
  if (allowedBy !== undefined) return { decision: 'allow', statement: allowedBy };
  if (unknown.length > 0) return { decision: 'unknown', reasons: unknown };
  return { decision: 'deny', reason: 'implicit' };
}
