import { findArchived, readArchived } from '../../lambda/archive/reader';
import { type Command, type CommandContext, type Parsed, stringFlag } from '../command';
import { CommandError, UsageError } from '../errors';
import { audited, requireReason } from '../guard';
import { archiveOf, attemptsOfEvent, listRange, sourceFlag, statusFlag } from '../listing';
import { print, table } from '../output';
import { sourceOf } from '../target';
import { parseRange } from '../time';

/**
 * `hookgate events list` and `hookgate events show`: the archive (lambda/archive) read from the
 * command. Listing reads metadata only (the archive objects' indexes and the delivery history);
 * `show --body` is the one way to see a body: it needs `--reason`, writes the audit record first,
 * and only then decrypts (no bypass).
 */

async function listEvents(parsed: Parsed, ctx: CommandContext): Promise<void> {
  if (parsed.positionals.length > 0) throw new UsageError('usage: hookgate events list --source <name> --since <time> [--until <time>] [--type T] [--status S] [--destination D]');
  const sourceName = sourceFlag(parsed, 'events list');
  const range = parseRange({ since: stringFlag(parsed, 'since'), until: stringFlag(parsed, 'until') }, ctx.now());
  if (range.since === undefined) throw new UsageError('events list requires --since (for example --since 2h)');
  const status = statusFlag(parsed);
  const only = stringFlag(parsed, 'destination');
  const type = stringFlag(parsed, 'type');
  const target = await ctx.target();
  const listing = await listRange(target, { source: sourceName, since: range.since, until: range.until, ...(type === undefined ? {} : { type }), ...(only === undefined ? {} : { destination: only }), ...(status === undefined ? {} : { status }) });
  const { destinations } = listing;
  const events = listing.events.map((e) => e.listed);
  const range_ = { since: range.since.toISOString(), until: range.until.toISOString() };
  print(ctx.io, ctx.json, { source: sourceName, ...range_, events }, () =>
    events.length === 0
      ? `no archived events of ${sourceName} from ${range_.since} to ${range_.until}${status === undefined ? '' : ` with status ${status}`}\n`
      : table(
          ['key', 'received at', 'type', 'size', ...destinations],
          events.map((e) => [e.key, e.receivedAt, e.eventType, e.size, ...destinations.map((d) => e.destinations[d])]),
        ),
  );
}

/** The source of a dedupe key (`<source>:...`), or `--source` when given. */
function sourceOfKey(parsed: Parsed, key: string): string {
  return stringFlag(parsed, 'source') ?? key.slice(0, key.indexOf(':'));
}

async function showEvent(parsed: Parsed, ctx: CommandContext): Promise<void> {
  const [key, ...rest] = parsed.positionals;
  if (key === undefined || rest.length > 0 || !key.includes(':')) throw new UsageError('usage: hookgate events show <dedupe key, as <source>:...> [--since T] [--until T] [--body --reason "<why>"]');
  const body = parsed.values.body === true;
  const reason = body ? requireReason(parsed, 'events show --body') : undefined;
  const range = parseRange({ since: stringFlag(parsed, 'since'), until: stringFlag(parsed, 'until') }, ctx.now());
  const target = await ctx.target();
  const sourceName = sourceOfKey(parsed, key);
  sourceOf(target.resources, sourceName);
  const store = archiveOf(target);
  const event = await findArchived({ ...store, source: sourceName, dedupeKey: key, until: range.until, ...(range.since === undefined ? {} : { since: range.since }) });
  if (event === undefined) throw new CommandError(`${key} is not in the archive of ${sourceName} ${range.since === undefined ? 'in the 24 hours before' : `from ${range.since.toISOString()} to`} ${range.until.toISOString()} (widen with --since)`);
  if (reason !== undefined) {
    const opened = await audited(target, { action: 'show-body', keys: [key], reason, now: ctx.now() }, async () => {
      const ciphertext = await readArchived(store, event);
      return (await target.envelope()).open(ciphertext, { source: sourceName, dedupeKey: key });
    });
    if (ctx.io.bytes !== undefined) ctx.io.bytes(opened.body);
    else ctx.io.out(opened.body.toString('utf8'));
    return;
  }
  const attempts = await attemptsOfEvent(target, key);
  const { objectKey } = event;
  const metadata = { key, source: sourceName, receivedAt: event.receivedAt, eventType: event.eventType, eventId: event.eventId, size: event.size, objectKey };
  print(ctx.io, ctx.json, { event: metadata, attempts }, () =>
    [
      table(['key', 'received at', 'type', 'event id', 'size', 'archive object'], [[key, event.receivedAt, event.eventType, event.eventId, event.size, objectKey]]),
      attempts.length === 0
        ? 'no delivery attempts recorded\n'
        : table(
            ['destination', 'attempt', 'at', 'verdict', 'status', 'ms', 'error', 'replay'],
            attempts.map((a) => [a.destination, a.attempt, a.at, a.verdict, a.statusCode, a.latencyMs, a.errorClass, a.replayId]),
          ),
    ].join('\n'),
  );
}

export const eventsListCommand: Command = {
  path: ['events', 'list'],
  summary: "a source's archived events in a time range, with each destination's delivery status (metadata only)",
  usage: 'events list --source <name> --since <time> [--until <time>] [--type <event type>] [--status failed|delivered|pending] [--destination <name>]',
  flags: { source: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, type: { type: 'string' }, status: { type: 'string' }, destination: { type: 'string' } },
  positionals: false,
  run: listEvents,
};

export const eventsShowCommand: Command = {
  path: ['events', 'show'],
  summary: "an archived event's metadata and delivery attempts; with --body, its exact body (audited)",
  usage: 'events show <dedupe key> [--source <name>] [--since <time>] [--until <time>] [--body --reason "<why>"]',
  flags: { source: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, body: { type: 'boolean' }, reason: { type: 'string' } },
  positionals: true,
  run: showEvent,
};
