/**
 * Anchors of docs/runbook.md. Every alarm's description ends with "Runbook: <entry>", and a test
 * checks that each entry exists in the runbook, so on-call always lands on the right section.
 */
export const RUNBOOK = {
  signatureFailures: 'docs/runbook.md#signature-failures',
  secretConfiguration: 'docs/runbook.md#secret-configuration',
  verifierErrors: 'docs/runbook.md#verifier-errors',
  verifierThrottles: 'docs/runbook.md#verifier-throttles',
  processorErrors: 'docs/runbook.md#processor-errors',
  dlqDepth: 'docs/runbook.md#dlq-depth',
  queueAge: 'docs/runbook.md#queue-age',
  sourceSilent: 'docs/runbook.md#source-silent',
  api5xx: 'docs/runbook.md#api-5xx',
  apiLatency: 'docs/runbook.md#api-latency',
  wafBlocks: 'docs/runbook.md#waf-blocks',
  wafBlockedSigned: 'docs/runbook.md#waf-blocked-signed',
  destinationDlqDepth: 'docs/runbook.md#destination-dlq-depth',
  destinationQueueAge: 'docs/runbook.md#destination-queue-age',
  deliveryErrors: 'docs/runbook.md#delivery-errors',
  circuitOpened: 'docs/runbook.md#circuit-opened',
  deliveryRejected: 'docs/runbook.md#delivery-rejected',
  destinationGone: 'docs/runbook.md#destination-gone',
  addressRefused: 'docs/runbook.md#address-refused',
} as const;

export type RunbookEntry = (typeof RUNBOOK)[keyof typeof RUNBOOK];

/** The sentence every alarm description ends with. */
export function runbookLine(entry: RunbookEntry): string {
  return `Runbook: ${entry}`;
}
