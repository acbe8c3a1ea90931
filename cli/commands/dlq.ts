import { attemptsOf } from '../../lambda/delivery/history';
import type { QueuePair } from '../../lib/stack-outputs';
import { type Command, type CommandContext, type Parsed, stringFlag } from '../command';
import { CommandError, UsageError } from '../errors';
import { audited, requireReason } from '../guard';
import { print, table } from '../output';
import { moveByHand, moveTaskStatus, peekDeadLetters, queueArn, startMoveTask } from '../queues';
import { sourceOf, type Target } from '../target';

/**
 * `hookgate dlq list|show|redrive --source S [--destination D]`: the dead-letter queue of a
 * source's processor, or of one of its destinations. `list` and `show` read metadata only (never
 * decrypt; the messages stay in the DLQ); `redrive` moves every message back to its queue, with
 * SQS's message move task on AWS.
 */

/** Which DLQ: a source's, or one of its destinations'. */
export interface DlqRef {
  /** `stripe` or `stripe/billing`. */
  readonly name: string;
  /** The destination's name, for a destination's DLQ. */
  readonly destination?: string;
  readonly queues: QueuePair;
}

/** The DLQ that `--source` and `--destination` name. */
export function dlqOf(target: Target, parsed: Parsed): DlqRef {
  const sourceName = stringFlag(parsed, 'source');
  if (sourceName === undefined) throw new UsageError('--source <name> is required');
  const source = sourceOf(target.resources, sourceName);
  const destination = stringFlag(parsed, 'destination');
  if (destination === undefined) return { name: source.source, queues: source };
  const queues = source.destinations[destination];
  if (queues === undefined || !Object.hasOwn(source.destinations, destination)) {
    throw new CommandError(`source ${source.source} has no destination ${JSON.stringify(destination)}; known: ${Object.keys(source.destinations).join(', ') || 'none'}`);
  }
  return { name: `${source.source}/${destination}`, destination, queues };
}

const DEFAULT_LIMIT = 100;

function limitOf(parsed: Parsed): number {
  const text = stringFlag(parsed, 'limit');
  if (text === undefined) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10_000) throw new UsageError(`--limit must be a whole number from 1 to 10000, not ${JSON.stringify(text)}`);
  return n;
}

export const dlqListCommand: Command = {
  path: ['dlq', 'list'],
  summary: "a DLQ's messages, metadata only: they stay in the DLQ, nothing is decrypted",
  usage: 'dlq list --source <name> [--destination <name>] [--limit 100]',
  flags: { source: { type: 'string' }, destination: { type: 'string' }, limit: { type: 'string' } },
  positionals: false,
  async run(parsed, ctx) {
    const limit = limitOf(parsed);
    const target = await ctx.target();
    const dlq = dlqOf(target, parsed);
    const messages = await peekDeadLetters(target.clients.sqs, dlq.queues.dlqUrl, limit);
    print(ctx.io, ctx.json, { dlq: dlq.name, messages }, () =>
      messages.length === 0
        ? `the DLQ of ${dlq.name} is empty\n`
        : table(
            ['message id', 'dedupe key', 'event type', 'received at', 'receives', 'bytes', 'reason'],
            messages.map((m) => [m.messageId, m.dedupeKey, m.eventType, m.receivedAt, m.receiveCount, m.size, m.reason]),
          ) + `${messages.length} message(s)${messages.length === limit ? ` (the first ${limit}; --limit shows more)` : ''}\n`,
    );
  },
};

/** How many messages `dlq show` looks through for the one asked for. */
const SHOW_SCAN_LIMIT = 10_000;

export const dlqShowCommand: Command = {
  path: ['dlq', 'show'],
  summary: 'one dead-lettered message (by message id or dedupe key): its metadata and delivery attempts, never its body',
  usage: 'dlq show <message id | dedupe key> --source <name> [--destination <name>]',
  flags: { source: { type: 'string' }, destination: { type: 'string' } },
  positionals: true,
  async run(parsed, ctx) {
    const [wanted, ...rest] = parsed.positionals;
    if (wanted === undefined || rest.length > 0) throw new UsageError('usage: hookgate dlq show <message id | dedupe key> --source <name> [--destination <name>]');
    const target = await ctx.target();
    const dlq = dlqOf(target, parsed);
    const messages = (await peekDeadLetters(target.clients.sqs, dlq.queues.dlqUrl, SHOW_SCAN_LIMIT)).filter((m) => m.messageId === wanted || m.dedupeKey === wanted);
    if (messages.length === 0) throw new CommandError(`${wanted} is not in the DLQ of ${dlq.name} (no message id or dedupe key matches; hookgate dlq list shows what is there)`);
    const key = messages.find((m) => m.dedupeKey !== undefined)?.dedupeKey;
    const table_ = target.resources.deliveryTable;
    const attempts = dlq.destination === undefined || key === undefined || table_ === undefined ? [] : await attemptsOf({ client: target.clients.dynamodb, tableName: table_ }, key, dlq.destination);
    print(ctx.io, ctx.json, { dlq: dlq.name, messages, attempts }, () =>
      [
        ...messages.map((m) =>
          table(
            ['field', 'value'],
            [['message id', m.messageId], ['dedupe key', m.dedupeKey], ['event id', m.eventId], ['event type', m.eventType], ['received at', m.receivedAt], ['sent at', m.sentAt], ['receives', m.receiveCount], ['bytes', m.size], ['reason', m.reason], ['replay id', m.replayId]],
          ),
        ),
        dlq.destination === undefined
          ? ''
          : attempts.length === 0
            ? `no delivery attempts recorded at ${dlq.destination}\n`
            : table(['attempt', 'at', 'verdict', 'status', 'ms', 'error', 'replay'], attempts.map((a) => [a.attempt, a.at, a.verdict, a.statusCode, a.latencyMs, a.errorClass, a.replayId])),
      ].filter((part) => part.length > 0).join('\n'),
    );
  },
};

const POLL_MS = 2000;

/** Moves with SQS's message move task and reports its progress on stderr until it ends. */
async function redriveWithTask(target: Target, dlq: DlqRef, ctx: CommandContext): Promise<{ moved: number; status: string }> {
  const { sqs } = target.clients;
  const [source, destination] = await Promise.all([queueArn(sqs, dlq.queues.dlqUrl), queueArn(sqs, dlq.queues.queueUrl)]);
  await startMoveTask(sqs, source, destination);
  for (;;) {
    const task = await moveTaskStatus(sqs, source);
    if (task === undefined) throw new CommandError(`the move task of ${dlq.name} disappeared`);
    if (task.status !== 'RUNNING') {
      if (task.status !== 'COMPLETED') throw new CommandError(`the move task of ${dlq.name} ended ${task.status}${task.failureReason === undefined ? '' : `: ${task.failureReason}`} after ${task.moved} message(s)`);
      return { moved: task.moved, status: task.status };
    }
    if (!ctx.json) ctx.io.err(`moving: ${task.moved}${task.total === undefined ? '' : ` of ~${task.total}`}\n`);
    await ctx.sleep(POLL_MS);
  }
}

export const dlqRedriveCommand: Command = {
  path: ['dlq', 'redrive'],
  summary: "move every message of a DLQ back to its queue, to be processed or delivered again (audited)",
  usage: 'dlq redrive --source <name> [--destination <name>] --reason "<why>"',
  flags: { source: { type: 'string' }, destination: { type: 'string' }, reason: { type: 'string' } },
  positionals: false,
  async run(parsed, ctx) {
    const reason = requireReason(parsed, 'dlq redrive');
    const target = await ctx.target();
    const dlq = dlqOf(target, parsed);
    const result = await audited(target, { action: 'redrive', keys: [`dlq:${dlq.name}`], reason, now: ctx.now() }, async (record) => {
      if (target.moveTasks) return { ...(await redriveWithTask(target, dlq, ctx)), method: 'message move task', audit: record };
      const moved = await moveByHand(target.clients.sqs, dlq.queues.dlqUrl, dlq.queues.queueUrl, (n) => (ctx.json ? undefined : ctx.io.err(`moved ${n}\n`)));
      return { moved, status: 'COMPLETED', method: 'receive, send, delete (the local emulator has no message move task)', audit: record };
    });
    print(ctx.io, ctx.json, { dlq: dlq.name, ...result }, () =>
      result.moved === 0 ? `the DLQ of ${dlq.name} was empty: nothing moved\n` : `moved ${result.moved} message(s) from the DLQ of ${dlq.name} back to its queue (${result.method})\n`,
    );
  },
};
