import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalApp } from '../../local/app';
import { localClients } from '../../local/emulators';
import type { KmsCallCounts } from '../../local/kms';
import { type CallLog, callCounts } from '../calls';
import { stats } from '../stats';
import type { LogBytes } from './logs';
import type { PhaseSummary } from './types';

/** Accepted events so far: the verifier's SendMessage calls (one per accepted event). */
export const sendCount = (log: CallLog): number => log.calls.get('verifier SQS SendMessage') ?? 0;

export const kmsSnapshot = (calls: KmsCallCounts): KmsCallCounts => ({ ...calls });

export const kmsDelta = (after: KmsCallCounts, before: KmsCallCounts): KmsCallCounts => ({
  generateDataKey: after.generateDataKey - before.generateDataKey,
  encrypt: after.encrypt - before.encrypt,
  decrypt: after.decrypt - before.decrypt,
});

/** Mean of max(1, ceil(ms)): what Lambda bills per invocation at these durations. */
export const billed = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, v) => a + Math.max(1, Math.ceil(v)), 0) / values.length);

export async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** One phase from the call log and the captured log lines (the caller resets both after). */
export function summarise(log: CallLog, captured: { bytes: LogBytes; verifierMs: number[] }, kms: KmsCallCounts): PhaseSummary {
  const { bytes, verifierMs } = captured;
  const events = sendCount(log);
  const calls = callCounts(log);
  return {
    events,
    calls,
    callsPerEvent: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, events === 0 ? 0 : v / events])),
    kms,
    receiveBatch: stats(log.received),
    deleteBatch: stats(log.deleted),
    processed: log.processed,
    processorMs: stats(log.processorMs),
    verifierMs: stats(verifierMs),
    verifierBilledMs: billed(verifierMs),
    processorBilledMs: billed(log.processorMs),
    sendBytes: stats(log.sentBytes),
    log: bytes,
    logPerEvent: {
      verifierLog: bytes.verifierLog / Math.max(1, events),
      verifierEmf: bytes.verifierEmf / Math.max(1, events),
      processorLog: bytes.processorLog / Math.max(1, events),
    },
  };
}

/** Visible + in-flight messages of a queue. */
export async function queueDepth(app: LocalApp, url: string): Promise<number> {
  const sqs = new SQSClient(localClients(app.stack.endpoints).sqs);
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  } finally {
    sqs.destroy();
  }
}
