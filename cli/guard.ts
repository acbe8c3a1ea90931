import { type AuditAction, type AuditRecord, auditRecord } from './audit';
import { type Parsed, stringFlag } from './command';
import { UsageError } from './errors';
import type { Target } from './target';

/**
 * The rule of every command that shows a body or changes what gets delivered: a reason is
 * required, and the audit record is durably written BEFORE anything is shown, sent or changed.
 * When the record cannot be written, the action does not run (no bypass).
 */

/** The `--reason` text; a UsageError when missing or blank. */
export function requireReason(parsed: Parsed, what: string): string {
  const reason = stringFlag(parsed, 'reason')?.trim();
  if (reason === undefined || reason.length === 0) throw new UsageError(`${what} requires --reason "<why>": it is written to the audit log`);
  return reason;
}

/** What is about to be done, for its audit record. */
export interface AuditedAction {
  readonly action: AuditAction;
  readonly keys: readonly string[];
  readonly reason: string;
  readonly replayId?: string;
  readonly now?: Date;
}

/**
 * Writes the audit record of `input`, then (only once it is written) runs `act` with it. An
 * AuditWriteError from the log propagates and `act` never runs.
 */
export async function audited<T>(target: Target, input: AuditedAction, act: (record: AuditRecord) => Promise<T>): Promise<T> {
  const record = auditRecord({ ...input, who: await target.who() });
  await target.audit.record(record);
  return act(record);
}
