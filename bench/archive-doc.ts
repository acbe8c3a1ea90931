/**
 * The "Archive" section of docs/cost.md and of the generated block of docs/performance.md,
 * rendered from the archive bench (bench/archive.ts) and its cost model (bench/archive-cost.ts).
 */
import type { ArchiveListing, ArchiveResult } from './archive';
import { ARCHIVE_ASSUMPTIONS, ARCHIVE_TARGET_PER_M, type ArchiveCostModel, archiveScenario, eventsPerWrite, listingCost } from './archive-cost';
import { PRICES, usd } from './cost';

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const calls = (listing: ArchiveListing): string =>
  Object.entries(listing.s3.calls)
    .map(([command, n]) => `${n} ${command}`)
    .join(' + ');
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/** Steady rates the doc prices a quiet-to-busy source at, events per second. */
const RATES = [1, 10, 50, 100, 500] as const;
const SECONDS_PER_MONTH = (365 / 12) * 86_400;

/** The lowest steady rate (events/s, from the doc's grid) at which a source without destinations meets the target. */
function targetRate(model: ArchiveCostModel): string {
  const grid = Array.from({ length: 400 }, (_, i) => 5 * (i + 1));
  const rate = grid.find((r) => archiveScenario('', model.rates, eventsPerWrite(r, model.facts.archive), model.facts).total <= ARCHIVE_TARGET_PER_M);
  return rate === undefined ? 'no rate under 2,000' : String(rate);
}

/** The archive's section of docs/cost.md. */
export function renderArchiveCost(model: ArchiveCostModel, result: ArchiveResult): string[] {
  const { facts, measured, handlers, fanOut, rates } = model;
  const archive = facts.archive;
  const largest = measured[measured.length - 1];
  const hour = listingCost(result.hour.s3.calls);
  const getsPerObject = (result.hour.s3.calls.GetObject ?? 0) / Math.max(1, result.hour.objects);
  const busyRate = RATES[RATES.length - 1];
  const busyE = eventsPerWrite(busyRate, archive);
  const busyObjects = Math.ceil((busyRate * 3600) / busyE);
  const busy = (Math.ceil(busyObjects / 1000) * PRICES.s3PutPer1k + busyObjects * getsPerObject * PRICES.s3GetPer1k) / 1000;
  const verdict = (total: number): string => (total <= ARCHIVE_TARGET_PER_M ? `**${usd(total)}: met**` : `**${usd(total)}: missed**`);
  return [
    '## Archive: what keeping every accepted event costs',
    '',
    "The archive adds **nothing on the verifier's path** (no call between the request and the 2xx). A source's processor writes each SQS",
    'batch to S3 before any work (lambda/archive/writer.ts): one `HGA1` object per (batch, UTC hour) holding the sealed envelopes exactly as',
    'enqueued and a metadata index, then that index alone under `index/` (what listings and the viewer role read): two PUTs per write.',
    'hookgate makes no KMS call to archive; S3 encrypts with the stack key.',
    '',
    `Measured by \`bench/archive.ts\` (run of ${result.ran.date}): ${result.options.events} events with ${result.options.bodyBytes} B bodies, sealed by the verifier's envelope`,
    `(local keyring: ${Math.round(result.writes[0]?.ciphertextBytes ?? 0)} B each), shaped as Lambda hands them to a processor, archived by the real writer in batches of E,`,
    'every S3 call counted by command name, every byte put summed. Prices: the list prices above.',
    `The template (${facts.from}) gives the writers their batches and the bucket its retention (${archive.days} days) and encryption (${archive.bucketKey ? 'SSE-KMS with a bucket key' : 'SSE-KMS, no bucket key'}).`,
    '',
    `Per million 2 KB events, with **E** events per archive write (one \`archiveBatch\` call); the arithmetic for E = ${largest?.batch ?? 'n/a'}:`,
    '',
    `| item | ${measured.map((s) => s.name).join(' | ')} | arithmetic (E = ${largest?.batch ?? ''}) |`,
    `| --- | ${measured.map(() => '---:').join(' | ')} | --- |`,
    ...(largest?.items ?? []).map((item, i) => `| ${item.item} | ${measured.map((s) => usd(s.items[i]?.dollars ?? Number.NaN)).join(' | ')} | ${item.how} |`),
    `| **total** | ${measured.map((s) => `**${usd(s.total)}**`).join(' | ')} | |`,
    '',
    `Assumptions: a KMS data key blob is ${ARCHIVE_ASSUMPTIONS.kmsBlobExtraBytes} B larger than the local keyring's (added to the bytes stored); the processor waits`,
    `${ARCHIVE_ASSUMPTIONS.s3WriteMs} ms per write request (an upper bound: a batch's objects go in parallel). Storage is billed until the lifecycle expires an object`,
    '(S3 may act up to a day later: one more day of storage at most).',
    '',
    `### The target: at most ${usd(ARCHIVE_TARGET_PER_M)} per million 2 KB events`,
    '',
    '| writer (template) | events per write, at most | batching window | per million |',
    '| --- | ---: | ---: | ---: |',
    `| ${handlers.name} | ${archive.processorBatch} | ${archive.processorWindowSeconds} s | ${verdict(handlers.total)} |`,
    `| ${fanOut.name} | ${archive.fanOutBatch} | ${archive.fanOutWindowSeconds} s | ${verdict(fanOut.total)} |`,
    '',
    'Both writers are the processor of a source: its event source mapping reads up to `archive.batchSize` (default 100) records, waiting',
    'up to `archive.batchWindowSeconds` (default 1) to fill them (Lambda allows more than 10 per batch only with a window of 1 s or more),',
    "and archives them in one write before any handler runs or any event is forwarded. A source without destinations runs the team's",
    'handlers on that batch, all records at once (partial batch failures: a failed record alone is retried). A source that sets its own',
    '`batchSize` (1 to 10, filled within the same window) caps the handlers running at once per invocation, and pays for it in archive',
    `writes: E <= its batchSize, ${usd(archiveScenario('', rates, 10, facts).total)} per million at 10. The queue's visibility timeout is 6 x the processor timeout`,
    'plus the window (AWS guidance for event source mappings); the processor timeout covers the whole batch, whose handlers run in parallel.',
    '',
    '### What sets E',
    '',
    `E is at most the batch size. At a steady rate, each of the mapping's pollers (up to the source's \`maxConcurrency\`, ${archive.processorConcurrency} here)`,
    'fills its batch for the window, so E ~ min(batch, rate x window / pollers) (an estimate: Lambda scales its pollers with the backlog):',
    '',
    '| events/s | events a month | E | per million | per month |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...RATES.map((rate) => {
      const e = eventsPerWrite(rate, archive);
      const total = archiveScenario('', rates, e, facts).total;
      const monthly = rate * SECONDS_PER_MONTH;
      return `| ${rate} | ${fixed(monthly / 1e6, 1)} M | ${fixed(e, 1)} | ${usd(total)} | ${usd((total * monthly) / 1e6)} |`;
    }),
    '',
    `At the template's window the target holds from about ${targetRate(model)} events/s; a quieter source pays more per event (the per-month column says how much).`,
    '`archive.batchWindowSeconds` (up to 300) buys larger writes with latency:',
    `at 20 s, 10 events/s gives E ~ ${fixed(eventsPerWrite(10, { ...archive, processorWindowSeconds: 20 }), 0)} (${usd(archiveScenario('', rates, eventsPerWrite(10, { ...archive, processorWindowSeconds: 20 }), facts).total)} per million), and each event waits at most 20 s more.`,
    '',
    '### Lookups',
    '',
    `Listings read metadata only (lambda/archive/reader.ts \`listArchived\`). Measured on a day of ${result.day.objects} objects (${result.day.listed} events), against a`,
    `baseline of one ListObjectsV2 + one GET of a small object on the same emulator (${fixed(result.baselineMs, 1)} ms median here), median of ${result.options.rounds} rounds:`,
    '',
    '| listing | objects | events listed | S3 requests | bytes read | latency / baseline |',
    '| --- | ---: | ---: | --- | ---: | ---: |',
    ...[result.hour, result.day].map((l) => `| ${l.label} | ${l.objects} | ${l.listed} | ${calls(l)} | ${kib(l.s3.getBytes)} | ${fixed(l.ratio)}x |`),
    '',
    `The day takes ${fixed(result.dayOverHour, 1)}x the hour: a listing reads only the hour prefixes of its range. Bytes read: ${kib(result.hour.s3.getBytes / Math.max(1, result.hour.objects))} per object`,
    `(listings GET the index objects only, never a sealed body). One hour costs ${hour.requests} requests, $${fixed(hour.dollars * 1000, 4)} per thousand listings;`,
    `at ${busyRate} events/s (E = ${fixed(busyE, 0)}) an hour is ${busyObjects} objects: ${Math.ceil(busyObjects / 1000)} LISTs + ${fixed(busyObjects * getsPerObject, 0)} GETs = ${usd(busy)} per listing.`,
    'Showing or replaying a body is one more ranged GET.',
    '',
    'With `archive.objectLock`, the bucket is versioned: a retried batch that writes the same object again keeps the previous version until',
    'its retention ends (rare: retries only).',
  ];
}

/** The archive's part of the generated block of docs/performance.md. */
export function archiveFigures(result: ArchiveResult): string[] {
  return [
    `### Archive (bench/archive.ts: the writer and the reader on fauxqs's S3, ${result.options.bodyBytes} B bodies sealed by the verifier's envelope)`,
    '',
    '| events per write (E) | objects | S3 requests per event | bytes stored per event |',
    '| ---: | ---: | --- | ---: |',
    ...result.writes.map((w) => `| ${w.batch} | ${w.objects} | ${Object.entries(w.s3.calls).map(([c, n]) => `${c} ${fixed(n / w.events, 4)}`).join(', ')} | ${fixed(w.s3.putBytes / w.events, 0)} |`),
    '',
    `Listing (median of ${result.options.rounds} rounds; baseline one ListObjectsV2 + one small GET, ${fixed(result.baselineMs, 1)} ms):`,
    ...[result.hour, result.day].map((l) => `- ${l.label}: ${l.listed} events from ${l.objects} objects, ${calls(l)}, ${kib(l.s3.getBytes)} read, **${fixed(l.ratio)}x the baseline**.`),
    `- the day / the hour: ${fixed(result.dayOverHour, 1)}x.`,
  ];
}
