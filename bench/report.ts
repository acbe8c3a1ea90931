/**
 * The bench's report: the targets (each measured figure against its goal) and the generated
 * block of docs/performance.md, both from one run's results.
 */
import { ARCHIVE_TARGET_PER_M, type ArchiveCostModel } from './archive-cost';
import type { ArchiveResult } from './archive';
import { archiveFigures } from './archive-doc';
import type { BenchResults, Target } from './results';
import { DESTINATION_TARGET_PER_M } from './destination-cost';
import { destinationFigures } from './destinations-doc';
import { formatRows } from './verify';

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/**
 * The targets; `destinationPerM`: what one http destination adds per million 2 KB events (the
 * destinations cost model); `archive`: the archive cost model.
 */
export function targets(r: Omit<BenchResults, 'targets'>, costAt10M: number, destinationPerM?: number, archive?: ArchiveCostModel): Target[] {
  const out: Target[] = [];
  const add = (name: string, value: string, target: string, met: boolean): void => void out.push({ name, value, target, met });
  for (const row of r.verify.filter((x) => x.kind === 'verify')) add(`verify ${row.provider} ${row.bytes / 1024} KB / bare HMAC`, `${fixed(row.ratio)}x`, '<= 1.5x', row.ratio <= 1.5);
  // Work anyone can cause without the secret: bounded by a small multiple of the HMAC itself.
  for (const row of r.verify.filter((x) => x.kind === 'reject')) add(`refuse forged ${row.provider} ${row.bytes / 1024} KB / bare HMAC`, `${fixed(row.ratio)}x`, '<= 3x', row.ratio <= 3);
  const { load, drained, floor } = r.e2e;
  add('e2e / floor (accepted per second, median of alternating rounds)', fixed(r.e2e.ratio), '>= 0.6', r.e2e.ratio >= 0.6);
  add('e2e errors + timeouts + non-2xx', String(load.load.errors + load.load.timeouts + load.load.non2xx), '0', load.load.errors + load.load.timeouts + load.load.non2xx === 0);
  add('floor errors', String(floor.errors), '0', floor.errors === 0);
  add('processed == accepted, queue and DLQ empty', `${drained.processed} / ${drained.accepted}, queue ${drained.queueLeft}, DLQ ${drained.dlq}`, 'equal, 0, 0', drained.processed === drained.accepted && drained.queueLeft === 0 && drained.dlq === 0);
  const per = load.calls.callsPerEvent;
  const writes = (per['verifier DynamoDB PutItem'] ?? 0) + (per['verifier DynamoDB UpdateItem'] ?? 0) + (per['verifier DynamoDB DeleteItem'] ?? 0);
  add('verifier DynamoDB writes per event', fixed(writes), '<= 2', writes <= 2.0001);
  add('verifier SQS sends per event', fixed(per['verifier SQS SendMessage'] ?? 0), '1', Math.abs((per['verifier SQS SendMessage'] ?? 0) - 1) < 1e-9);
  const kms = load.calls.kms;
  const kmsPer1000 = ((kms.generateDataKey + kms.encrypt + kms.decrypt) * 1000) / Math.max(1, load.calls.events);
  add('KMS calls per 1,000 events (warm)', fixed(kmsPer1000), '<= 1', kmsPer1000 <= 1);
  add('processor messages per ReceiveMessage under load', fixed(load.calls.receiveBatch.mean, 1), '>= 5', load.calls.receiveBatch.mean >= 5);
  add('processor messages per DeleteMessageBatch under load', fixed(load.calls.deleteBatch.mean, 1), '>= 5', load.calls.deleteBatch.mean >= 5);
  const verifierBundle = r.coldStart.bundles.find((b) => b.name === 'verifier');
  add('verifier bundle bytes', String(verifierBundle?.bytes ?? 0), '<= 1 MB', (verifierBundle?.bytes ?? Infinity) <= 1024 * 1024);
  for (const init of r.coldStart.init.filter((i) => !i.label.includes('first request'))) add(`init ${init.label} / node -e 0`, `${fixed(init.ratio)}x`, '<= 3x', init.ratio <= 3);
  add('cost per million 2 KB webhooks, all included (10 M/month, measured path + X-Ray)', `$${fixed(costAt10M)}`, '<= $6.50', costAt10M <= 6.5);
  const d = r.destinations;
  if (d !== undefined) {
    const complete = (s: typeof d.one): boolean => s.delivered === s.events * s.destinations && s.left === 0;
    add('destinations: delivered == events x destinations, queues and DLQs empty (1 and 3)', `${d.one.delivered} / ${d.one.events}, ${d.three.delivered} / ${d.three.events * 3}`, 'equal, 0', complete(d.one) && complete(d.three));
    if (destinationPerM !== undefined) add('one http destination adds per million 2 KB events (measured batch)', `$${fixed(destinationPerM)}`, `<= $${fixed(DESTINATION_TARGET_PER_M)}`, destinationPerM <= DESTINATION_TARGET_PER_M);
  }
  return [...out, ...archiveTargets(archive, r.archive)];
}

/** The archive's targets: what each writer adds per million (the cost model), and a listing of one hour among a day lists that hour's events. */
export function archiveTargets(model: ArchiveCostModel | undefined, result: ArchiveResult | undefined): Target[] {
  const out: Target[] = [];
  for (const scenario of model === undefined ? [] : [model.handlers, model.fanOut]) {
    out.push({ name: `the archive adds per million 2 KB events, ${scenario.name}`, value: `$${fixed(scenario.total)}`, target: `<= $${fixed(ARCHIVE_TARGET_PER_M)}`, met: scenario.total <= ARCHIVE_TARGET_PER_M });
  }
  if (result !== undefined) {
    const perHour = result.options.objectsPerHour * result.options.eventsPerObject;
    out.push({
      name: 'archive: a listing of one hour among a day lists that hour only, the day all of it',
      value: `${result.hour.listed} / ${result.day.listed}`,
      target: `${perHour} / ${24 * perHour}`,
      met: result.hour.listed === perHour && result.day.listed === 24 * perHour,
    });
  }
  return out;
}

/** The generated block of docs/performance.md. */
export function figures(r: BenchResults): string {
  const { e2e, coldStart: cs } = r;
  const lines = [
    `Run of ${r.machine.date}: ${r.machine.cpu}, ${r.machine.nproc} cores (nproc), node ${r.machine.node}, ${r.machine.platform}; load average ${r.machine.loadAverage[0].toFixed(1)} at start, ${r.machine.loadAverage[1].toFixed(1)} at end (other work on the machine); ${r.seconds.toFixed(0)} s in all.`,
    '',
    '### Targets',
    '',
    '| figure | measured | target | met |',
    '| --- | ---: | ---: | :---: |',
    ...r.targets.map((t) => `| ${t.name} | ${t.value} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`),
    '',
    '### 1. Verification cost (verifyWebhook / bare createHmac over the same bytes)',
    '',
    formatRows(r.verify.filter((x) => x.kind === 'verify')),
    '',
    "Refusing a forged request (the scheme's headers, well formed, signed with another secret) of the source's maxBodyBytes (1 MiB; Twilio 64 KiB):",
    '',
    formatRows(r.verify.filter((x) => x.kind === 'reject')),
    '',
    '### 2. Local end to end (github source, 2 KB bodies, unique and signed; load generator in its own process)',
    '',
    '| phase | accepted | per second | p50 ms | p99 ms | errors / non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| e2e, ${e2e.options.connections} connections, ${e2e.options.rounds} x ${fixed(e2e.options.loadSeconds / e2e.options.rounds, 0)} s | ${e2e.load.calls.events} | ${fixed(e2e.load.perSecond, 0)} | ${e2e.load.load.p50} | ${e2e.load.load.p99} | ${e2e.load.load.errors + e2e.load.load.timeouts} / ${e2e.load.load.non2xx} |`,
    `| floor (the verifier's dedupe: PutItem + SendMessage ${(e2e.floor.messageBytes / 1024).toFixed(1)} KB + UpdateItem), ${e2e.options.connections} loops, ${e2e.options.rounds} x ${fixed(e2e.options.floorSeconds / e2e.options.rounds, 0)} s | ${e2e.floor.events} | ${fixed(e2e.floor.perSecond, 0)} | ${fixed(e2e.floor.p50, 1)} | ${fixed(e2e.floor.p99, 1)} | ${e2e.floor.errors} |`,
    `| e2e, 1 connection, ${e2e.options.serialSeconds} s | ${e2e.serial.calls.events} | ${fixed(e2e.serial.load.ok2xx / e2e.serial.load.seconds, 0)} | ${e2e.serial.load.p50} | ${e2e.serial.load.p99} | ${e2e.serial.load.errors} / ${e2e.serial.load.non2xx} |`,
    `| e2e, 1 connection, ${e2e.options.largeBodyBytes / 1024} KB bodies | ${e2e.serialLarge.calls.events} | ${fixed(e2e.serialLarge.load.ok2xx / e2e.serialLarge.load.seconds, 0)} | ${e2e.serialLarge.load.p50} | ${e2e.serialLarge.load.p99} | ${e2e.serialLarge.load.errors} / ${e2e.serialLarge.load.non2xx} |`,
    '',
    `CPU per accepted event: this process (HTTP server, verifier, processor, dynalite) ${fixed(e2e.load.cpuMsPerEvent)} ms under e2e load vs ${fixed(e2e.floor.cpuMsPerEvent)} ms for the floor; the load generator ${fixed(e2e.load.loadCpuMsPerEvent)} ms per request (same 2 cores; fauxqs's child process not counted).`,
    '',
    `Rounds (e2e segment then floor segment, alternating order): ${e2e.rounds.map((x) => `${fixed(x.e2ePerSecond, 0)}/s vs ${fixed(x.floorPerSecond, 0)}/s = ${fixed(x.ratio)}`).join('; ')}.`,
    '',
    `**e2e / floor = ${fixed(e2e.ratio)}** (median of the rounds). Drain: ${e2e.drained.processed} processed of ${e2e.drained.accepted} accepted over the run; queue ${e2e.drained.queueLeft}, DLQ ${e2e.drained.dlq}.`,
    `Verifier handler duration (its own durationMs): serial p50 ${e2e.serial.calls.verifierMs.p50} ms, under load p50 ${e2e.load.calls.verifierMs.p50} ms / p99 ${e2e.load.calls.verifierMs.p99} ms;`,
    `processor invocation under load: mean ${fixed(e2e.load.calls.processorMs.mean, 1)} ms for ${fixed(e2e.load.calls.receiveBatch.mean, 1)} messages.`,
    '',
    '### 3. AWS calls per accepted event (load phase; SDK middleware on the local app\'s clients, KMS on the local KMS)',
    '',
    '| side, service, operation | calls | per event |',
    '| --- | ---: | ---: |',
    ...Object.entries(e2e.load.calls.calls).map(([k, v]) => `| ${k} | ${v} | ${fixed(e2e.load.calls.callsPerEvent[k] ?? 0, 3)} |`),
    `| KMS GenerateDataKey / Encrypt / Decrypt | ${e2e.load.calls.kms.generateDataKey} / ${e2e.load.calls.kms.encrypt} / ${e2e.load.calls.kms.decrypt} | ${fixed(((e2e.load.calls.kms.generateDataKey + e2e.load.calls.kms.encrypt + e2e.load.calls.kms.decrypt) * 1000) / Math.max(1, e2e.load.calls.events), 2)} per 1,000 |`,
    '',
    `Messages per ReceiveMessage (non-empty) mean ${fixed(e2e.load.calls.receiveBatch.mean, 1)} (p50 ${e2e.load.calls.receiveBatch.p50}); per DeleteMessageBatch mean ${fixed(e2e.load.calls.deleteBatch.mean, 1)}.`,
    `Cold (the first event of a fresh app, HTTP ${e2e.cold.status} in ${fixed(e2e.cold.ms, 0)} ms): ${Object.entries(e2e.cold.calls).map(([k, v]) => `${k} ${v}`).join(', ')}; KMS GenerateDataKey ${e2e.cold.kms.generateDataKey}, Decrypt ${e2e.cold.kms.decrypt}.`,
    `Log bytes per accepted event (measured): verifier log ${fixed(e2e.load.calls.logPerEvent.verifierLog, 0)}, verifier EMF ${fixed(e2e.load.calls.logPerEvent.verifierEmf, 0)}, processor log ${fixed(e2e.load.calls.logPerEvent.processorLog, 0)}.`,
    '',
    `### 4. Cold start (bundled with the stack's options, lib/constructs/bundling.ts; esbuild target ${cs.target})`,
    '',
    '| bundle as shipped | bytes | largest packages |',
    '| --- | ---: | --- |',
    ...cs.bundles.map((b) => `| ${b.name} | ${b.bytes} | ${b.top.map((t) => `${t.module} ${(t.bytes / 1024).toFixed(0)} KB`).join(', ')} |`),
    '',
    `Init: the verifier's require + verifierFromEnv(), the processor's require; first request: init plus one answered invocation against a stand-in for AWS on this machine. Ratios of medians over ${cs.rounds} interleaved rounds against node -e 0 (${fixed(cs.baselineMs, 1)} ms wall, ${fixed(cs.baselineCpuMs, 1)} ms CPU).`,
    '',
    '| variant | verifier bytes | verifier wall | verifier CPU | processor bytes | processor wall | processor CPU |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...cs.variants.map(
      (v) =>
        `| ${v.shipped ? `**${v.label}**` : v.label} | ${v.bytes.verifier} | ${fixed(v.ratio.verifier)}x | ${fixed(v.cpuRatio.verifier)}x | ${v.bytes.processor} | ${fixed(v.ratio.processor)}x | ${fixed(v.cpuRatio.processor)}x |`,
    ),
    '',
    ...cs.init.filter((i) => i.label.startsWith('delivery')).map((i) => `Delivery function (an http destination), as shipped, init: ${fixed(i.ratio)}x node -e 0 (${fixed(i.medianMs, 1)} ms).`),
    `Network touched at init: verifier ${cs.network.verifier?.length ?? 0} attempts, processor ${cs.network.processor?.length ?? 0} attempts${cs.network.delivery === undefined ? '' : `, delivery ${cs.network.delivery.length} attempts`}.`,
    ...(r.destinations === undefined ? [] : ['', ...destinationFigures(r.destinations)]),
    ...(r.archive === undefined ? [] : ['', ...archiveFigures(r.archive)]),
  ];
  return lines.join('\n');
}

