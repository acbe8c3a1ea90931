import { type Command, stringFlag } from '../command';
import { print, table } from '../output';
import { parseTime } from '../time';

/** `hookgate audit list [--since T] [--who text]`: the audit records, for a compliance review. */

/** Keys for a table cell: the first three, then a count. */
function keysText(keys: readonly string[]): string {
  return keys.length <= 3 ? keys.join(', ') : `${keys.slice(0, 3).join(', ')} (+${keys.length - 3} more)`;
}

export const auditListCommand: Command = {
  path: ['audit', 'list'],
  summary: 'the audit records: who showed a body, replayed, redrove, paused or resumed, when, why, from where',
  usage: 'audit list [--since 7d] [--who <text in the caller>]',
  flags: { since: { type: 'string' }, who: { type: 'string' } },
  positionals: false,
  async run(parsed, ctx) {
    const sinceText = stringFlag(parsed, 'since');
    const since = sinceText === undefined ? undefined : parseTime(sinceText, ctx.now(), '--since');
    const who = stringFlag(parsed, 'who');
    const target = await ctx.target();
    const records = await target.audit.list({ ...(since === undefined ? {} : { since }), ...(who === undefined ? {} : { who }) });
    print(ctx.io, ctx.json, { log: target.audit.location, records }, () =>
      records.length === 0
        ? `no audit records${since === undefined ? '' : ` since ${since.toISOString()}`}${who === undefined ? '' : ` by ${who}`}\n`
        : table(['at', 'who', 'action', 'keys', 'reason', 'host'], records.map((r) => [r.at, r.who, r.replayId === undefined ? r.action : `${r.action} ${r.replayId}`, keysText(r.keys), r.reason, r.host])),
    );
  },
};
