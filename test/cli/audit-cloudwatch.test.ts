import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { auditRecord, auditStreamName, AuditWriteError, createCloudWatchAuditLog } from '../../cli/audit';
import { failureOf } from '../../cli/errors';
import { type FakeLogs, startFakeLogs } from './fake-logs';

// The deployed audit log against a tiny fake of the CloudWatch Logs API (the real SDK client,
// real HTTP): stream per day and caller, one JSON event per record, read back with FilterLogEvents.

const GROUP = 'hookgate-staging-audit';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/HookgateOperator/alice';
const BOB = 'arn:aws:sts::123456789012:assumed-role/HookgateOperator/bob';

let logs: FakeLogs;
let client: CloudWatchLogsClient;

beforeAll(async () => {
  logs = await startFakeLogs(GROUP);
  client = new CloudWatchLogsClient({ endpoint: logs.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await logs?.stop();
});

const at = (iso: string) => new Date(iso);

describe('CloudWatch Logs audit log', () => {
  it('writes each record as one JSON event in the stream of its day and caller, creating the stream once', async () => {
    const audit = createCloudWatchAuditLog({ client, logGroupName: GROUP });
    const first = auditRecord({ who: ALICE, action: 'show-body', keys: ['stripe:evt_1'], reason: 'INC-7', now: at('2026-12-01T10:00:00Z') });
    const second = auditRecord({ who: ALICE, action: 'replay', keys: ['stripe:evt_1', 'stripe:evt_2'], reason: 'INC-7', replayId: 'rp_1', now: at('2026-12-01T10:05:00Z') });
    await audit.record(first);
    await audit.record(second);
    const stream = '2026-12-01/arn_aws_sts__123456789012_assumed-role/HookgateOperator/alice';
    expect(auditStreamName(first)).toBe(stream);
    expect([...logs.streams.keys()]).toEqual([stream]);
    expect(logs.streams.get(stream)?.map((e) => JSON.parse(e.message) as unknown)).toEqual([first, second]);
    expect(logs.streams.get(stream)?.map((e) => e.timestamp)).toEqual([Date.parse(first.at), Date.parse(second.at)]);
    expect(logs.calls.filter((c) => c === 'CreateLogStream')).toHaveLength(1);
  });

  it('an existing stream (another run of the command that day) is reused', async () => {
    const audit = createCloudWatchAuditLog({ client, logGroupName: GROUP });
    await audit.record(auditRecord({ who: ALICE, action: 'pause', keys: ['stripe/billing'], reason: 'down', now: at('2026-12-01T11:00:00Z') }));
    await audit.record(auditRecord({ who: BOB, action: 'resume', keys: ['stripe/billing'], reason: 'up', now: at('2026-12-02T09:00:00Z') }));
    expect(logs.streams.size).toBe(2);
    expect(logs.streams.get('2026-12-01/arn_aws_sts__123456789012_assumed-role/HookgateOperator/alice')).toHaveLength(3);
  });

  it('reads every page back, oldest first, filtered by --since and --who', async () => {
    const audit = createCloudWatchAuditLog({ client, logGroupName: GROUP });
    expect((await audit.list({})).map((r) => r.action)).toEqual(['show-body', 'replay', 'pause', 'resume']);
    expect((await audit.list({ since: at('2026-12-01T10:30:00Z') })).map((r) => r.action)).toEqual(['pause', 'resume']);
    expect((await audit.list({ who: '/bob' })).map((r) => r.who)).toEqual([BOB]);
    expect(logs.calls.filter((c) => c === 'FilterLogEvents').length).toBeGreaterThan(3);
  });

  it('a refused write rejects with AuditWriteError, and the command says access was denied and nothing was done', async () => {
    logs.deny.add('PutLogEvents');
    try {
      const audit = createCloudWatchAuditLog({ client, logGroupName: GROUP });
      const failure = await audit.record(auditRecord({ who: ALICE, action: 'replay', keys: ['stripe:evt_9'], reason: 'x' })).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(AuditWriteError);
      expect(failureOf(failure)).toEqual({ code: 1, message: 'the audit record could not be written, so nothing was done (access denied: AccessDeniedException)' });
    } finally {
      logs.deny.delete('PutLogEvents');
    }
  });
});
