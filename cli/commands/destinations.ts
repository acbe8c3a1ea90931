import { type CircuitState, pauseDestination, resumeDestination } from '../../lambda/delivery/circuit';
import type { Command, CommandContext, Parsed } from '../command';
import { CommandError, UsageError } from '../errors';
import { audited, requireReason } from '../guard';
import { print } from '../output';
import { deliveryTableOf, sourceOf } from '../target';
import { circuitText } from './status';

/**
 * `hookgate destinations pause|resume <source>/<destination> --reason <text>`: drives a
 * destination's manual state (lambda/delivery/circuit.ts). The audit record is written first;
 * when it cannot be, the destination is left as it was.
 */

/** `<source>/<destination>` as given; a UsageError for anything else. */
export function destinationRefOf(parsed: Parsed, verb: string): { readonly source: string; readonly destination: string } {
  const [ref, ...rest] = parsed.positionals;
  const match = ref === undefined ? null : /^([^/\s]+)\/([^/\s]+)$/.exec(ref);
  if (match === null || rest.length > 0) throw new UsageError(`usage: hookgate destinations ${verb} <source>/<destination> --reason "<why>"`);
  return { source: match[1] as string, destination: match[2] as string };
}

async function changeState(parsed: Parsed, ctx: CommandContext, action: 'pause' | 'resume'): Promise<void> {
  const ref = destinationRefOf(parsed, action);
  const reason = requireReason(parsed, `destinations ${action}`);
  const target = await ctx.target();
  const source = sourceOf(target.resources, ref.source);
  if (!Object.hasOwn(source.destinations, ref.destination)) {
    throw new CommandError(`source ${ref.source} has no destination ${JSON.stringify(ref.destination)}; known: ${Object.keys(source.destinations).join(', ') || 'none'}`);
  }
  const table = { client: target.clients.dynamodb, tableName: deliveryTableOf(target.resources) };
  const key = `${ref.source}/${ref.destination}`;
  const now = ctx.now();
  const { record, before } = await audited(target, { action, keys: [key], reason, now }, async (record) => {
    const before: CircuitState = action === 'pause' ? await pauseDestination(table, ref, { now }) : await resumeDestination(table, ref, { now });
    return { record, before };
  });
  print(ctx.io, ctx.json, { destination: key, action, before, audit: record }, () => `${action === 'pause' ? 'paused' : 'resumed'} ${key} (was ${circuitText(before)}); audit record written to ${target.audit.location}\n`);
}

const flags = { reason: { type: 'string' } } as const;

export const pauseCommand: Command = {
  path: ['destinations', 'pause'],
  summary: 'pause a destination: its events wait in its queue until resumed (audited)',
  usage: 'destinations pause <source>/<destination> --reason "<why>"',
  flags,
  positionals: true,
  run: (parsed, ctx) => changeState(parsed, ctx, 'pause'),
};

export const resumeCommand: Command = {
  path: ['destinations', 'resume'],
  summary: 'resume a destination (paused or open circuit): waiting events are attempted again (audited)',
  usage: 'destinations resume <source>/<destination> --reason "<why>"',
  flags,
  positionals: true,
  run: (parsed, ctx) => changeState(parsed, ctx, 'resume'),
};
