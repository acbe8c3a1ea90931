import type { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT_PURPOSE, CONTEXT_SOURCE, PURPOSE } from '../../lambda/ingest/envelope';
import { bodyKey, idKey } from '../../lambda/signatures/dedupe-key';
import type { HookgateStack } from '../../lib/hookgate-stack';
import { asArray, iamLike, identityStatements, logicalId, roleStatements, synthConfig, synthShipped, type Statement } from './helpers';

// Per-source isolation: a compromised function of one source must not be able to touch another
// source's dedupe records or envelopes. Template assertions only, so the code is not bundled.

let stacks: Record<string, HookgateStack>;
let templates: Record<string, Template>;

beforeAll(() => {
  ({ stacks, templates } = synthShipped({ bundle: false }));
}, 120_000);

const ENVS = ['dev', 'prod'] as const;
const actionsOf = (s: Statement): string[] => asArray(s.Action);
const onKey = (s: Statement): boolean => actionsOf(s).some((a) => a.startsWith('kms:'));
const viaService = (s: Statement): unknown => (s.Condition as { StringEquals?: Record<string, unknown> } | undefined)?.StringEquals?.['kms:ViaService'];
const leadingKeys = (s: Statement): unknown => (s.Condition as Record<string, Record<string, unknown>> | undefined)?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];

describe.each(ENVS)('%s: per-source isolation', (env) => {
  const roles = (): { name: string; verifier: string; processor: string }[] =>
    stacks[env].cells.map((cell) => ({
      name: cell.sourceName,
      verifier: logicalId(stacks[env], cell.verifier.role),
      processor: logicalId(stacks[env], cell.processor.role),
    }));

  it('the verifier of a source can write only its own dedupe keys', () => {
    const all = roles();
    for (const { name, verifier } of all) {
      const dedupe = roleStatements(templates[env], verifier).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      expect(dedupe.length).toBeGreaterThan(0);
      for (const statement of dedupe) {
        const patterns = asArray(leadingKeys(statement) as string | string[]);
        expect(patterns).toEqual([`${name}:*`]);
        // The keys this source's verifications produce are allowed; every other source's are not.
        expect(iamLike(patterns[0], idKey(name, 'evt_1'))).toBe(true);
        expect(iamLike(patterns[0], bodyKey(name, Buffer.from('{}'), 'secret'))).toBe(true);
        for (const other of all.filter((o) => o.name !== name)) {
          expect(iamLike(patterns[0], idKey(other.name, 'evt_1'))).toBe(false);
          expect(iamLike(patterns[0], bodyKey(other.name, Buffer.from('{}'), 'secret'))).toBe(false);
        }
      }
    }
  });

  it('no function but a verifier can reach the dedupe table', () => {
    const verifiers = new Set(roles().map((r) => r.verifier));
    for (const { roles: attached, statement } of identityStatements(templates[env])) {
      if (actionsOf(statement).some((a) => a.startsWith('dynamodb:'))) {
        expect(attached.every((r) => verifiers.has(r))).toBe(true);
      }
    }
  });

  it('a verifier generates envelope data keys only under its own source\'s encryption context', () => {
    for (const { name, verifier } of roles()) {
      const envelope = roleStatements(templates[env], verifier).filter((s) => onKey(s) && viaService(s) === undefined);
      expect(envelope.flatMap(actionsOf)).toEqual(['kms:GenerateDataKey']);
      for (const statement of envelope) {
        expect(statement.Condition).toEqual({
          StringEquals: { [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: name, [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE },
        });
      }
    }
  });

  it('a processor decrypts envelopes only under its own source\'s encryption context', () => {
    for (const { name, processor } of roles()) {
      const envelope = roleStatements(templates[env], processor).filter((s) => onKey(s) && viaService(s) === undefined);
      expect(envelope.flatMap(actionsOf)).toEqual(['kms:Decrypt']);
      for (const statement of envelope) {
        expect(statement.Condition).toEqual({
          StringEquals: { [`kms:EncryptionContext:${CONTEXT_SOURCE}`]: name, [`kms:EncryptionContext:${CONTEXT_PURPOSE}`]: PURPOSE },
        });
      }
    }
  });

  it('every other use of the stack key goes through SQS, S3 or DynamoDB in the stack\'s region', () => {
    const region = JSON.stringify(stacks[env].resolve(stacks[env].region));
    for (const { verifier, processor } of roles()) {
      const services = (role: string): string[] =>
        roleStatements(templates[env], role)
          .filter((s) => onKey(s) && viaService(s) !== undefined)
          .map((s) => {
            const value = JSON.stringify(viaService(s));
            expect(value).toContain(region.replace(/^"|"$/g, ''));
            return /"(sqs|s3|dynamodb)\./.exec(value)?.[1] ?? value;
          })
          .sort();
      expect(services(verifier)).toEqual(['dynamodb', 's3', 'sqs']);
      // The processor's second SQS statement generates data keys for its copies to the DLQ; its
      // second S3 statement for the archive objects it writes.
      expect(services(processor)).toEqual(['s3', 's3', 'sqs', 'sqs']);
    }
  });

  it('no function statement on the stack key is without a condition', () => {
    const functionRoles = new Set(roles().flatMap((r) => [r.verifier, r.processor]));
    const keyStatements = identityStatements(templates[env]).filter(({ roles: attached, statement }) => attached.some((r) => functionRoles.has(r)) && onKey(statement));
    expect(keyStatements.length).toBeGreaterThan(0);
    for (const { statement } of keyStatements) {
      expect(statement.Condition).toBeDefined();
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stacks[env], stacks[env].key.key), 'Arn'] });
    }
  });
});

describe('sources whose names share a prefix', () => {
  it('the verifier of "ops" cannot write the dedupe keys of "ops-eu"', () => {
    const { stack, template } = synthConfig(
      'staging',
      {
        sources: {
          ops: { provider: 'github', secretName: 'hookgate/staging/ops' },
          'ops-eu': { provider: 'github', secretName: 'hookgate/staging/ops-eu' },
        },
        alarms: { email: 'oncall@example.com' },
      },
      { bundle: false },
    );
    const ops = stack.cells.find((c) => c.sourceName === 'ops');
    expect(ops).toBeDefined();
    const statements = roleStatements(template, logicalId(stack, ops?.verifier.role ?? stack.cells[0].verifier.role)).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('dynamodb:')),
    );
    const patterns = statements.flatMap((s) => asArray(leadingKeys(s) as string | string[]));
    expect(patterns).toEqual(['ops:*']);
    expect(iamLike(patterns[0], idKey('ops', 'evt_1'))).toBe(true);
    expect(iamLike(patterns[0], idKey('ops-eu', 'evt_1'))).toBe(false);
  });
});
