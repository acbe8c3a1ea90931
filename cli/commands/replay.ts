import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type ArchivedEvent, findArchived, readArchived } from '../../lambda/archive/reader';
import { matchesEvents } from '../../lambda/config/destinations';
import { ATTR, messageAttributes, messageSize, payloadKey, SQS_MAX_MESSAGE_BYTES } from '../../lambda/ingest/message';
import type { SourceResources } from '../../lib/stack-outputs';
import { type Command, type CommandContext, type Parsed, stringFlag } from '../command';
import { CommandError, failureOf, UsageError } from '../errors';
import { audited, requireReason } from '../guard';
import { print, table } from '../output';
import { sourceOf, type Target } from '../target';
import { parseRange } from '../time';

/**
 * `hookgate replay <key>... --reason "<why>"`: sends archived events again, as they were enqueued
 * (the same ciphertext, so the same body and `webhook-id`), to each destination queue whose
 * filter matches (or the source's work queue when it has no destinations), with the attribute
 * `replayId`. One audit record per key is written BEFORE anything of that key is sent; a key
 * whose record cannot be written is not sent. Bodies over the SQS limit go through the payload
 * bucket as a pointer, as the verifier sends them.
 */

/** What happened to one key. */
export interface ReplayOutcome {
  readonly key: string;
  /** The replay id its messages carry, once its audit record was written. */
  readonly replayId?: string;
  /** Where it was sent: destination names, or `work queue`. */
  readonly sentTo: readonly string[];
  /** Why it was not (or not fully) sent. */
  readonly error?: string;
}

/** One queue a replayed event goes to. */
interface ReplayQueue {
  readonly name: string;
  readonly queueUrl: string;
}

/** The queues an event goes to: each matching destination (or only `--destination`), else the source's work queue. */
function queuesOf(source: SourceResources, event: ArchivedEvent, only: string | undefined): ReplayQueue[] {
  const destinations = Object.entries(source.destinations);
  if (destinations.length === 0) return [{ name: 'work queue', queueUrl: source.queueUrl }];
  return destinations
    .filter(([name, d]) => (only === undefined || name === only) && matchesEvents(d.events, event.eventType))
    .map(([name, d]) => ({ name, queueUrl: d.queueUrl }));
}

/** The message of a replayed event: the hookgate format with `replayId`; over the SQS limit, a pointer to the payload bucket. */
async function messageOf(target: Target, event: ArchivedEvent, ciphertext: Buffer, replayId: string): Promise<{ body: string; attributes: Record<string, MessageAttributeValue> }> {
  const meta = { source: event.source, dedupeKey: event.dedupeKey, eventId: event.eventId, eventType: event.eventType, receivedAt: event.receivedAt };
  const replay = { [ATTR.replayId]: { DataType: 'String', StringValue: replayId } };
  const inline = { body: ciphertext.toString('base64'), attributes: { ...messageAttributes(meta, 'inline'), ...replay } };
  if (messageSize(inline.body, inline.attributes) <= SQS_MAX_MESSAGE_BYTES) return inline;
  const bucket = target.resources.payloadBucket;
  const key = payloadKey(event.source, event.dedupeKey);
  await target.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: ciphertext, ContentType: 'application/octet-stream' }));
  return { body: JSON.stringify({ bucket, key }), attributes: { ...messageAttributes(meta, 's3'), ...replay } };
}

/** Audits, then sends one key; what went. */
async function replayOne(target: Target, key: string, reason: string, range: { since?: Date; until: Date }, only: string | undefined, now: Date): Promise<ReplayOutcome> {
  const sourceName = key.slice(0, key.indexOf(':'));
  const source = sourceOf(target.resources, sourceName);
  const bucket = target.resources.archiveBucket;
  if (bucket === undefined) throw new CommandError(`${target.label} has no archive bucket`);
  const store = { s3: target.clients.s3, bucket };
  const event = await findArchived({ ...store, source: sourceName, dedupeKey: key, until: range.until, ...(range.since === undefined ? {} : { since: range.since }) });
  if (event === undefined) return { key, sentTo: [], error: 'not in the archive in that range' };
  const queues = queuesOf(source, event, only);
  if (queues.length === 0) return { key, sentTo: [], error: 'no destination matches its event type' };
  const replayId = randomUUID();
  const sentTo: string[] = [];
  try {
    await audited(target, { action: 'replay', keys: [key], reason, replayId, now }, async () => {
      const message = await messageOf(target, event, await readArchived(store, event), replayId);
      for (const queue of queues) {
        await target.clients.sqs.send(new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: message.body, MessageAttributes: message.attributes }));
        sentTo.push(queue.name);
      }
    });
    return { key, replayId, sentTo };
  } catch (err) {
    return { key, ...(sentTo.length > 0 ? { replayId } : {}), sentTo, error: failureOf(err).message };
  }
}

async function replay(parsed: Parsed, ctx: CommandContext): Promise<void> {
  const keys = parsed.positionals;
  if (keys.length === 0 || keys.some((k) => !k.includes(':'))) throw new UsageError('usage: hookgate replay <dedupe key>... --reason "<why>" [--since T] [--until T] [--destination D]');
  const reason = requireReason(parsed, 'replay');
  const range = parseRange({ since: stringFlag(parsed, 'since'), until: stringFlag(parsed, 'until') }, ctx.now());
  const only = stringFlag(parsed, 'destination');
  const target = await ctx.target();
  for (const key of keys) sourceOf(target.resources, key.slice(0, key.indexOf(':')));
  const outcomes: ReplayOutcome[] = [];
  for (const key of keys) outcomes.push(await replayOne(target, key, reason, range, only, ctx.now()));
  print(ctx.io, ctx.json, { replayed: outcomes }, () =>
    table(
      ['key', 'replay id', 'sent to', 'result'],
      outcomes.map((o) => [o.key, o.replayId, o.sentTo.join(', ') || undefined, o.error ?? 'sent']),
    ),
  );
  const failed = outcomes.filter((o) => o.error !== undefined).length;
  if (failed > 0) throw new CommandError(`${failed} of ${outcomes.length} keys were not (fully) replayed`);
}

export const replayCommand: Command = {
  path: ['replay'],
  summary: 'send archived events again to their destinations, with a replay id (audited per key)',
  usage: 'replay <dedupe key>... --reason "<why>" [--since <time>] [--until <time>] [--destination <name>]',
  flags: { reason: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, destination: { type: 'string' } },
  positionals: true,
  run: replay,
};
