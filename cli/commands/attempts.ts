import { attemptsOf } from '../../lambda/delivery/history';
import { type Command, stringFlag } from '../command';
import { UsageError } from '../errors';
import { print, table } from '../output';
import { deliveryTableOf } from '../target';

/** `hookgate events attempts <key> [--destination D]`: every recorded delivery attempt of an event. */

export const attemptsCommand: Command = {
  path: ['events', 'attempts'],
  summary: "an event's delivery attempts at each destination (metadata only)",
  usage: 'events attempts <dedupe key> [--destination <name>]',
  flags: { destination: { type: 'string' } },
  positionals: true,
  async run(parsed, ctx) {
    const [key, ...rest] = parsed.positionals;
    if (key === undefined || rest.length > 0 || !key.includes(':')) throw new UsageError('usage: hookgate events attempts <dedupe key, as <source>:...> [--destination <name>]');
    const destination = stringFlag(parsed, 'destination');
    const target = await ctx.target();
    const attempts = await attemptsOf({ client: target.clients.dynamodb, tableName: deliveryTableOf(target.resources) }, key, destination);
    print(ctx.io, ctx.json, { key, attempts }, () =>
      attempts.length === 0
        ? `no delivery attempts recorded for ${key}${destination === undefined ? '' : ` at ${destination}`}\n`
        : table(
            ['destination', 'attempt', 'at', 'verdict', 'status', 'ms', 'error', 'replay'],
            attempts.map((a) => [a.destination, a.attempt, a.at, a.verdict, a.statusCode, a.latencyMs, a.errorClass, a.replayId]),
          ),
    );
  },
};
