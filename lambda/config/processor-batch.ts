import type { EnvironmentConfig, NamedSource } from './schema';

/**
 * The batches a source's processor gets (its SQS event source mapping), in one place for the
 * stack and local mode. The processor archives each batch in one write before any work, so the
 * batch sets the archive's cost (one S3 PUT per batch: $5 per million events at 1, $0.05 at 100).
 *
 * - With the archive, a processor reads up to `archive.batchSize` records (default 100) and waits
 *   up to `archive.batchWindowSeconds` (default 1) to fill them. A source with destinations
 *   always does (its fan-out runs no team code).
 * - A source without destinations that sets `batchSize` (1 to 10) gets at most that many records:
 *   its handlers run at once per invocation (partial batch failures either way), so the setting
 *   caps them, at the archive's cost. It still waits up to the window, which fills its batches.
 * - Without the archive: `batchSize` (default 10, Lambda's), no window.
 *
 * The processor's timeout covers a whole batch: its records run at once (Powertools'
 * BatchProcessor), so a batch takes about as long as its slowest handler, plus the archive write.
 * The queue's visibility timeout is six timeouts plus the window (AWS guidance; source-cell.ts).
 */

/** A processor's batch: records per invocation at most, and seconds its mapping waits to fill one. */
export interface ProcessorBatch {
  readonly batchSize: number;
  readonly batchWindowSeconds: number;
}

/** Lambda's SQS batch size when none is given. */
const LAMBDA_DEFAULT_BATCH = 10;

/** The batch of `source`'s processor (see the module comment); `archive` undefined: no archive. */
export function processorBatch(source: Pick<NamedSource, 'batchSize' | 'destinations'>, archive: Pick<EnvironmentConfig['archive'], 'batchSize' | 'batchWindowSeconds'> | undefined): ProcessorBatch {
  if (archive === undefined) return { batchSize: source.batchSize ?? LAMBDA_DEFAULT_BATCH, batchWindowSeconds: 0 };
  const fansOut = Object.keys(source.destinations ?? {}).length > 0;
  return { batchSize: fansOut ? archive.batchSize : (source.batchSize ?? archive.batchSize), batchWindowSeconds: archive.batchWindowSeconds };
}
