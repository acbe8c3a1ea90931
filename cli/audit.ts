import { hostname, userInfo } from 'node:os';
import { open, readFile } from 'node:fs/promises';
import { type CloudWatchLogsClient, CreateLogStreamCommand, FilterLogEventsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

/**
 * The audit log of the `hookgate` command: one record per body shown, replay, redrive, pause
 * or resume, written BEFORE the data is shown or sent or the change made. Append-only: on AWS a
 * KMS-encrypted CloudWatch Logs group (lib/constructs/audit-log.ts), locally a JSON-lines file
 * beside the emulators' state. A record names keys and a reason, never a body.
 */

/** What was done. */
export type AuditAction = 'show-body' | 'replay' | 'redrive' | 'pause' | 'resume';

/** One audit record, as stored (one JSON object). */
export interface AuditRecord {
  /** ISO 8601 time of the record (before the action). */
  readonly at: string;
  /** The caller: the STS caller ARN on AWS, the OS user locally. */
  readonly who: string;
  readonly action: AuditAction;
  /** Dedupe keys, `<source>/<destination>` for pause and resume, or the DLQ redriven. */
  readonly keys: readonly string[];
  /** Why, in the caller's words (`--reason`). */
  readonly reason: string;
  /** The machine the command ran on. */
  readonly host: string;
  /** The replay's id, for a replay. */
  readonly replayId?: string;
}

/** Which records to read back. */
export interface AuditQuery {
  /** Records at or after this time. @default all */
  readonly since?: Date;
  /** Records whose `who` contains this text (an ARN's role session, a user name). @default all */
  readonly who?: string;
}

/** Thrown when a record could not be written: the action it guards must not happen. */
export class AuditWriteError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the audit record could not be written, so nothing was done', options);
    this.name = 'AuditWriteError';
  }
}

/** An append-only audit log. */
export interface AuditLog {
  /** Where it is, for people (`file:<path>`, `cloudwatch:<group>`). */
  readonly location: string;
  /** Appends one record. Resolves only once it is durably written; rejects with AuditWriteError. */
  record(entry: AuditRecord): Promise<void>;
  /** The records matching the query, oldest first. */
  list(query: AuditQuery): Promise<AuditRecord[]>;
}

/** A record for an action about to happen, stamped with the time and this host. */
export function auditRecord(input: { readonly who: string; readonly action: AuditAction; readonly keys: readonly string[]; readonly reason: string; readonly replayId?: string; readonly now?: Date }): AuditRecord {
  return {
    at: (input.now ?? new Date()).toISOString(),
    who: input.who,
    action: input.action,
    keys: [...input.keys],
    reason: input.reason,
    host: hostname(),
    ...(input.replayId === undefined ? {} : { replayId: input.replayId }),
  };
}

/** The local caller: the OS user. */
export function localCaller(): string {
  return userInfo().username;
}

function matches(record: AuditRecord, query: AuditQuery): boolean {
  if (query.since !== undefined && Date.parse(record.at) < query.since.getTime()) return false;
  return query.who === undefined || record.who.includes(query.who);
}

/** A stored line or event as a record; anything else (a torn or foreign line) is skipped. */
function parseRecord(text: string): AuditRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<AuditRecord>;
    if (typeof value.at !== 'string' || typeof value.who !== 'string' || typeof value.action !== 'string' || !Array.isArray(value.keys)) return undefined;
    return value as AuditRecord;
  } catch {
    return undefined;
  }
}

/**
 * The local audit log: one JSON line per record in `path`, created 0600, each append flushed to
 * disk (fsync) before `record` resolves.
 */
export function createFileAuditLog(path: string): AuditLog {
  return {
    location: `file:${path}`,

    async record(entry) {
      try {
        const file = await open(path, 'a', 0o600);
        try {
          await file.appendFile(`${JSON.stringify(entry)}\n`, 'utf8');
          await file.sync();
        } finally {
          await file.close();
        }
      } catch (err) {
        throw new AuditWriteError({ cause: err });
      }
    },

    async list(query) {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') return [];
        throw err;
      }
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map(parseRecord)
        .filter((r): r is AuditRecord => r !== undefined && matches(r, query));
    },
  };
}

/** Options of {@link createCloudWatchAuditLog}. */
export interface CloudWatchAuditOptions {
  readonly client: CloudWatchLogsClient;
  readonly logGroupName: string;
}

/**
 * The stream of a record: `<yyyy-mm-dd>/<caller>`, one per day and caller, so a review can read
 * one person's day. CloudWatch refuses `:` and `*` in stream names; they become `_`.
 */
export function auditStreamName(entry: Pick<AuditRecord, 'at' | 'who'>): string {
  return `${entry.at.slice(0, 10)}/${entry.who.replace(/[:*]/g, '_')}`.slice(0, 512);
}

/**
 * The audit log in a CloudWatch Logs group: each record is one event in its day's and caller's
 * stream (created when missing), written with PutLogEvents; `record` resolves once CloudWatch
 * accepted the event. Read back with FilterLogEvents.
 */
export function createCloudWatchAuditLog(options: CloudWatchAuditOptions): AuditLog {
  const { client, logGroupName } = options;
  const streams = new Set<string>();

  async function ensureStream(logStreamName: string): Promise<void> {
    if (streams.has(logStreamName)) return;
    try {
      await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
    } catch (err) {
      if ((err as Error).name !== 'ResourceAlreadyExistsException') throw err;
    }
    streams.add(logStreamName);
  }

  return {
    location: `cloudwatch:${logGroupName}`,

    async record(entry) {
      try {
        const logStreamName = auditStreamName(entry);
        await ensureStream(logStreamName);
        const out = await client.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [{ timestamp: Date.parse(entry.at), message: JSON.stringify(entry) }] }));
        const rejected = out.rejectedLogEventsInfo;
        if (rejected !== undefined && Object.values(rejected).some((v) => v !== undefined)) throw new Error('CloudWatch Logs rejected the event');
      } catch (err) {
        throw new AuditWriteError({ cause: err });
      }
    },

    async list(query) {
      const out: AuditRecord[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new FilterLogEventsCommand({ logGroupName, nextToken, ...(query.since === undefined ? {} : { startTime: query.since.getTime() }) }),
        );
        for (const event of page.events ?? []) {
          const record = parseRecord(event.message ?? '');
          if (record !== undefined && matches(record, query)) out.push(record);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    },
  };
}
