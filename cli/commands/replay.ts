import { type Command, type CommandContext, type Parsed, stringFlag } from '../command';
import { CommandError, UsageError } from '../errors';
import { requireReason } from '../guard';
import { sourceFlag, statusFlag } from '../listing';
import { print, table } from '../output';
import { planKeys, planRange, type ReplayItem, type ReplayOutcome, sendPlan, summaryOf } from '../replay';
import { sourceOf, type Target } from '../target';
import { parseRange, type TimeRange } from '../time';

/**
 * `hookgate replay <key>... --reason "<why>"` and `hookgate replay --source S --since T [--until T]
 * [--type T] [--destination D] [--status S] --reason "<why>"`: sends archived events again, as
 * they were enqueued (the same ciphertext, so the same body and `webhook-id`), to each destination
 * queue whose filter matches (or the source's work queue when it has no destinations), with the
 * attribute `replayId` (cli/replay.ts). One audit record per key is written BEFORE anything of
 * that key is sent. A range replay says what it is about to do and asks for confirmation unless
 * `--yes`; `--dry-run` lists what would go and does nothing else; `--rate` paces the keys; the
 * summary at the end says which keys went and which did not, also when interrupted.
 */

/** Keys per second when `--rate` is not given. */
export const DEFAULT_RATE = 20;

const USAGE = 'usage: hookgate replay (<dedupe key>... | --source S --since T [--until T] [--type T] [--status S]) [--destination D] --reason "<why>" [--yes] [--dry-run] [--rate N]';

/** `--rate` as given (keys per second, a positive number), or {@link DEFAULT_RATE}. */
function rateFlag(parsed: Parsed): number {
  const value = stringFlag(parsed, 'rate');
  if (value === undefined) return DEFAULT_RATE;
  const rate = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(rate > 0)) throw new UsageError(`--rate must be a positive number of events per second, not ${JSON.stringify(value)}`);
  return rate;
}

/** A range replay's query, from its flags. */
interface RangeRequest extends TimeRange {
  readonly source: string;
  readonly since: Date;
  readonly type?: string;
  readonly status?: ReturnType<typeof statusFlag>;
}

/** What the flags ask: keys, or a range; a UsageError for both, neither, or a range without --since. */
function requestOf(parsed: Parsed, range: TimeRange): { keys: readonly string[] } | { range: RangeRequest } {
  const keys = parsed.positionals;
  const rangeFlags = ['source', 'type', 'status'].filter((f) => parsed.values[f] !== undefined);
  if (keys.length > 0) {
    if (rangeFlags.length > 0) throw new UsageError(`give dedupe keys or a range (--source S --since T), not both (--${rangeFlags.join(', --')} with keys)`);
    if (keys.some((k) => !k.includes(':'))) throw new UsageError(USAGE);
    return { keys };
  }
  if (rangeFlags.length === 0) throw new UsageError(USAGE);
  const source = sourceFlag(parsed, 'a range replay');
  if (range.since === undefined) throw new UsageError('a range replay requires --since (for example --since 2h)');
  const type = stringFlag(parsed, 'type');
  const status = statusFlag(parsed);
  return { range: { source, since: range.since, until: range.until, ...(type === undefined ? {} : { type }), ...(status === undefined ? {} : { status }) } };
}

/** `--destination`, checked against the source(s) replayed: a CommandError when one has no such destination. */
function checkDestination(target: Target, sources: readonly string[], only: string | undefined): void {
  for (const name of new Set(sources)) {
    const known = Object.keys(sourceOf(target.resources, name).destinations);
    if (only !== undefined && !known.includes(only)) throw new CommandError(`source ${name} has no destination ${JSON.stringify(only)}; known: ${known.join(', ') || 'none'}`);
  }
}

/** The range in words: `stripe from <since> to <until>`. */
function rangeText(range: RangeRequest): string {
  return `${range.source} from ${range.since.toISOString()} to ${range.until.toISOString()}${range.type === undefined ? '' : ` of type ${range.type}`}${range.status === undefined ? '' : ` with status ${range.status}`}`;
}

/** What a range replay is about to do, for the confirmation. */
function aboutTo(items: readonly ReplayItem[], range: RangeRequest, rate: number): string {
  const destinations = [...new Set(items.flatMap((i) => i.queues.map((q) => q.name)))].join(', ');
  const seconds = Math.ceil((items.length - 1) / rate);
  return `about to replay ${items.length} events of ${rangeText(range)} to ${destinations}, at most ${rate} per second (about ${seconds} s); one audit record per event\n`;
}

/** Prints what would go; nothing is sent or audited. A CommandError when a key could not go. */
function printDryRun(ctx: CommandContext, items: readonly ReplayItem[], range: RangeRequest | undefined): void {
  const events = items.map((i) => ({
    key: i.key,
    ...(i.event === undefined ? {} : { receivedAt: i.event.receivedAt, ...(i.event.eventType === undefined ? {} : { eventType: i.event.eventType }) }),
    destinations: i.queues.map((q) => q.name),
    ...(i.error === undefined ? {} : { error: i.error }),
  }));
  const scope = range === undefined ? {} : { source: range.source, since: range.since.toISOString(), until: range.until.toISOString() };
  print(ctx.io, ctx.json, { dryRun: true, ...scope, events }, () =>
    [
      table(['key', 'received at', 'type', 'destinations', 'would'], events.map((e) => [e.key, e.receivedAt, e.eventType, e.destinations.join(', ') || undefined, e.error ?? 'go'])),
      `dry run: ${events.filter((e) => e.error === undefined).length} of ${events.length} would be replayed; nothing was sent and no audit record was written\n`,
    ].join(''),
  );
  const blocked = events.filter((e) => e.error !== undefined).length;
  if (blocked > 0) throw new CommandError(`${blocked} of ${events.length} keys would not be replayed`);
}

/** Prints the outcomes and their summary; a CommandError (exit 1) when any key did not go. */
function printOutcomes(ctx: CommandContext, outcomes: readonly ReplayOutcome[], rate: number): void {
  const summary = summaryOf(outcomes);
  const perDestination = Object.entries(summary.perDestination).map(([name, n]) => `${name}: ${n}`).join(', ');
  print(ctx.io, ctx.json, { replayed: outcomes, summary, rate }, () =>
    [
      table(['key', 'replay id', 'sent to', 'result'], outcomes.map((o) => [o.key, o.replayId, o.sentTo.join(', ') || undefined, o.error ?? 'sent'])),
      `sent ${summary.sent} of ${summary.keys} keys${perDestination === '' ? '' : ` (${perDestination})`}; not sent: ${summary.notSent}${summary.interrupted ? ' (interrupted)' : ''}\n`,
    ].join(''),
  );
  if (summary.interrupted) throw new CommandError(`interrupted: ${summary.notSent} of ${summary.keys} keys were not (fully) replayed`);
  if (summary.notSent > 0) throw new CommandError(`${summary.notSent} of ${summary.keys} keys were not (fully) replayed`);
}

async function replay(parsed: Parsed, ctx: CommandContext): Promise<void> {
  const range = parseRange({ since: stringFlag(parsed, 'since'), until: stringFlag(parsed, 'until') }, ctx.now());
  const request = requestOf(parsed, range);
  const dryRun = parsed.values['dry-run'] === true;
  const reason = dryRun ? undefined : requireReason(parsed, 'replay');
  const rate = rateFlag(parsed);
  const yes = parsed.values.yes === true;
  if ('range' in request && !dryRun && !yes && !ctx.interactive) throw new UsageError('a range replay asks for confirmation and stdin is not a terminal: pass --yes');
  const only = stringFlag(parsed, 'destination');
  const target = await ctx.target();
  checkDestination(target, 'keys' in request ? request.keys.map((k) => k.slice(0, k.indexOf(':'))) : [request.range.source], only);
  const items = 'keys' in request ? await planKeys(target, request.keys, range, only) : await planRange(target, { ...request.range, ...(only === undefined ? {} : { destination: only }) });
  if ('range' in request && items.length === 0) {
    print(ctx.io, ctx.json, { source: request.range.source, since: request.range.since.toISOString(), until: request.range.until.toISOString(), replayed: [], summary: summaryOf([]) }, () => `no archived events of ${rangeText(request.range)} to replay\n`);
    return;
  }
  if (dryRun || reason === undefined) return printDryRun(ctx, items, 'range' in request ? request.range : undefined);
  if ('range' in request) {
    ctx.io.err(aboutTo(items, request.range, rate));
    if (!yes && !(await ctx.confirm(`replay these ${items.length} events?`))) throw new CommandError('not confirmed: nothing was replayed');
  }
  const progress = 'range' in request ? { progress: ctx.io } : {};
  const outcomes = await ctx.interruptible((signal) => sendPlan(target, items, { reason, rate, clock: ctx, signal, ...progress }));
  printOutcomes(ctx, outcomes, rate);
}

export const replayCommand: Command = {
  path: ['replay'],
  summary: 'send archived events (keys, or a time range) again to their destinations, with a replay id (audited per key)',
  usage: 'replay (<dedupe key>... | --source <name> --since <time> [--until <time>] [--type <event type>] [--status failed|delivered|pending]) [--destination <name>] --reason "<why>" [--yes] [--dry-run] [--rate <events per second>]',
  flags: {
    reason: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    destination: { type: 'string' },
    source: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    yes: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    rate: { type: 'string' },
  },
  positionals: true,
  run: replay,
};
