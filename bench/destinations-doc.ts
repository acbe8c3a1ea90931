/**
 * The "Destinations" section of docs/cost.md and of the generated block of docs/performance.md,
 * rendered from the destinations bench (bench/destinations.ts) and its cost model
 * (bench/destination-cost.ts).
 */
import { type LineItem, usd } from './cost';
import { DESTINATION_ASSUMPTIONS, DESTINATION_TARGET_PER_M, type DestinationCostModel, destinationLevers } from './destination-cost';
import type { DestinationsResult, RunSummary } from './destinations';

const fixed = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** The largest line items of a scenario, largest first, with their share of its total. */
export function largestItems(items: readonly LineItem[], count = 3): { readonly item: string; readonly dollars: number; readonly share: number }[] {
  const total = items.reduce((s, i) => s + i.dollars, 0);
  return [...items]
    .sort((a, b) => b.dollars - a.dollars)
    .slice(0, count)
    .map((i) => ({ item: i.item, dollars: i.dollars, share: total > 0 ? i.dollars / total : 0 }));
}

/** What would bring one destination under the target: the levers, largest first, and what they reach together. */
function leverLines(model: DestinationCostModel, result: DestinationsResult, target: number): string[] {
  const [one, , oneTrickle] = model.scenarios;
  if (one === undefined || oneTrickle === undefined) return [];
  const levers = destinationLevers(one, result.one, result.serial, model.facts).sort((x, y) => y.dollars - x.dollars);
  const trickle = destinationLevers(oneTrickle, result.one, result.serial, model.facts);
  // Savings overlap (parallel attempts and less memory both cut duration): the combination applies them in turn.
  const combined = (scenario: typeof one, list: readonly LineItem[]): number => {
    const duration = scenario.items.find((i) => i.item === 'Delivery function duration')?.dollars ?? 0;
    const [memory, parallel, ...rest] = list;
    const durationLeft = duration - (parallel?.dollars ?? 0) - (memory?.dollars ?? 0) * (1 - (parallel?.dollars ?? 0) / Math.max(duration, Number.MIN_VALUE));
    return scenario.total - duration + Math.max(0, durationLeft) - rest.reduce((s, l) => s + l.dollars, 0);
  };
  const all = destinationLevers(one, result.one, result.serial, model.facts);
  return [
    one.total <= target ? 'What further changes would save per million (1 destination, measured batch):' : 'What would make it hold: changes to the delivery path and what each saves per million (1 destination, measured batch):',
    '',
    `| change | saves | batch ${DESTINATION_ASSUMPTIONS.trickleBatch} saves | why |`,
    '| --- | ---: | ---: | --- |',
    ...levers.map((l) => `| ${l.item} | ${usd(l.dollars)} | ${usd(trickle.find((t) => t.item === l.item)?.dollars ?? Number.NaN)} | ${l.how} |`),
    '',
    `With all of them: ${usd(combined(one, all))} per million at the measured batch, ${usd(combined(oneTrickle, trickle))} at batch ${DESTINATION_ASSUMPTIONS.trickleBatch}` +
      ` (target ${usd(target)}). A trickle also needs batches back: a batching window on the destination's event source mapping (maxBatchingWindow, a few seconds of latency).`,
  ];
}

/** The calls the destinations add, per source event, with 1 and 3 destinations (the source poller's are today's figure). */
export function callRows(one: RunSummary, three: RunSummary): string[] {
  const keys = [...new Set([...Object.keys(one.calls), ...Object.keys(three.calls)])].filter((k) => !k.startsWith('source poller') && !k.includes('GetQueueAttributes')).sort();
  return keys.map((k) => `| ${k} | ${fixed(one.callsPerEvent[k] ?? 0, 3)} | ${fixed(three.callsPerEvent[k] ?? 0, 3)} |`);
}

/** The "Destinations" section of docs/cost.md. `today`: today's figure per million 2 KB webhooks (10 M/month, measured path + X-Ray). */
export function renderDestinationCost(model: DestinationCostModel, result: DestinationsResult, today: number): string[] {
  const a = DESTINATION_ASSUMPTIONS;
  const f = model.facts;
  const [one, three, oneTrickle, threeTrickle] = model.scenarios;
  if (one === undefined || three === undefined || oneTrickle === undefined || threeTrickle === undefined) throw new Error('destination cost model lacks its scenarios');
  const target = DESTINATION_TARGET_PER_M;
  const rows = one.items.map((item, i) => `| ${item.item} | ${[one, three, oneTrickle, threeTrickle].map((s) => usd(s.items[i]?.dollars ?? Number.NaN)).join(' | ')} | ${item.how} |`);
  const top = largestItems(one.items);
  const topTrickle = largestItems(oneTrickle.items, 2);
  const duration = one.items.find((i) => i.item === 'Delivery function duration')?.dollars ?? 0;
  const perReceiverMs = duration / (a.receiverResponseMs + result.serial.delivery.msPerRecord);
  const headroomMs = perReceiverMs > 0 ? (target - one.total) / perReceiverMs : Number.NaN;
  const fixedPer = model.fixed.filter((x) => x.per === 'destination');
  const fixedEnv = model.fixed.filter((x) => x.per === 'environment');
  const perDestinationMonth = fixedPer.reduce((s, x) => s + x.perMonth, 0);
  return [
    '## Destinations',
    '',
    `What forwarding to \`http\` destinations adds, per million 2 KB source events. Counts, batch sizes, log bytes and local durations are measured by`,
    `\`bench/destinations.ts\` (fan-out and delivery engine on the emulators, one local receiver answering 204; ${result.one.events} events per run; run of ${result.ran.date});`,
    `the delivery function's facts are read from the synthesized template of ${f.from} (\`bench/destination-facts.ts\`).`,
    '',
    `- Delivery function: ${f.memoryMb} MB ${f.architecture}, batch ${f.batchSize}, maxInFlight ${f.maxInFlight}, logs kept ${f.logRetentionDays} days, platform lines ${f.platformLogLines ? 'written' : 'dropped'}; ${f.alarms} alarms per destination.`,
    `- Billed duration: the serial local duration per message (${fixed(result.serial.delivery.msPerRecord, 1)} ms: open, breaker, attempt, history, against emulators) plus **${a.receiverResponseMs} ms per attempt for the receiver to answer (assumption)**;`,
    '  attempts run one at a time, so the function is billed while it waits.',
    `- Batches: the measured runs start from a full queue, so the fan-out and the delivery functions get ${fixed(result.one.fanOut.batch, 1)} and ${fixed(result.one.delivery.batch, 1)} messages per invocation.`,
    `  Events that trickle in get smaller batches: the *batch ${a.trickleBatch}* columns are the worst case (one message per invocation).`,
    `- DynamoDB: one history PutItem per attempt (${a.historyItemKb} WRU; every attempt succeeded here, a retry adds one) and one consistent breaker GetItem per invocation (1 RRU).`,
    '- Not counted: retries (each adds an attempt: receive, duration, history write), bodies over 1 MiB (S3 GET per destination), the source\'s own cost (today\'s figure).',
    '',
    `| per million source events | 1 destination | 3 destinations | 1 destination, batch ${a.trickleBatch} | 3 destinations, batch ${a.trickleBatch} | how (1 destination) |`,
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows,
    `| **added per million** | **${[one, three, oneTrickle, threeTrickle].map((s) => usd(s.total)).join('** | **')}** | |`,
    `| today's figure + destinations (10 M/month) | ${[one, three, oneTrickle, threeTrickle].map((s) => usd(today + s.total)).join(' | ')} | today: ${usd(today)} |`,
    '',
    `**Where the money goes (1 destination):** ${top.map((t) => `${t.item} ${usd(t.dollars)} (${Math.round(t.share * 100)} %)`).join(', ')}.`,
    `With batch ${a.trickleBatch}: ${topTrickle.map((t) => `${t.item} ${usd(t.dollars)} (${Math.round(t.share * 100)} %)`).join(', ')}.`,
    '',
    one.total <= target
      ? `**Target (one destination adds at most ${usd(target)} per million 2 KB events): met**, ${usd(one.total)} at the measured batch, ${usd(target - one.total)} to spare;`
      : `**Target (one destination adds at most ${usd(target)} per million 2 KB events): missed**, ${usd(one.total)} at the measured batch;`,
    oneTrickle.total <= target
      ? `and met at batch ${a.trickleBatch} too (${usd(oneTrickle.total)}).`
      : `at batch ${a.trickleBatch} it is ${usd(oneTrickle.total)}, over the target: a trickle pays a Lambda request, a receive, a delete and a breaker read per event.`,
    Number.isFinite(headroomMs) && headroomMs > -a.receiverResponseMs
      ? `The receiver's answer time is the one input the stack does not control: each ms per attempt costs ${usd(perReceiverMs)} per million; at the measured batch the target holds while receivers answer within ~${Math.floor(a.receiverResponseMs + headroomMs)} ms.`
      : `The receiver's answer time is the one input the stack does not control (each ms per attempt costs ${usd(perReceiverMs)} per million); even a receiver answering at once leaves the figure over the target.`,
    '',
    ...leverLines(model, result, target),
    '',
    `Fixed monthly cost per destination: ${usd(perDestinationMonth)}${fixedEnv.length > 0 ? `; once per environment: ${fixedEnv.map((x) => `${x.item} ${usd(x.perMonth)}`).join(', ')}` : ''}.`,
    '',
    '| fixed monthly | per destination | 3 destinations | how |',
    '| --- | ---: | ---: | --- |',
    ...model.fixed.map((x) => `| ${x.item}${x.per === 'environment' ? ' (once per environment)' : ''} | ${x.per === 'destination' ? usd(x.perMonth) : ''} | ${usd(x.per === 'destination' ? 3 * x.perMonth : x.perMonth)} | ${x.how} |`),
    '',
  ];
}

/** The destinations part of the generated block of docs/performance.md. */
export function destinationFigures(result: DestinationsResult): string[] {
  const { one, three } = result;
  return [
    `### 5. Destinations (${result.options.bodyBytes / 1024} KB bodies, ${result.options.concurrency} deliveries in flight = an http destination's default maxInFlight; bench/destinations.ts)`,
    '',
    `Measured in the run of ${result.ran.date} (load average ${fixed(result.ran.loadAverage, 1)} on this shared machine).`,
    '',
    `Forwarding: a source queue filled with sealed messages, the fan-out and the delivery engine (http target) driven by the local poller, to one local receiver answering 204;`,
    `the baseline: ${result.options.concurrency} loops POSTing the same body to the same receiver. Rounds (alternating order): ${result.rounds.map((x) => `${fixed(x.forwardingPerSecond, 0)}/s vs ${fixed(x.baselinePerSecond, 0)}/s`).join('; ')}.`,
    '',
    `**forwarding / bare POST = ${fixed(result.ratio, 3)}** (median of ${result.rounds.length} rounds). Each forwarded event is a fan-out send, a receive, a breaker read, a signed POST, a history write and a delete against the emulators (dynalite in this process);`,
    'the bare POST is only the POST. The ratio shows what the queueing and bookkeeping cost locally, not a Lambda figure.',
    `Serial (one poller per function): fan-out ${fixed(result.serial.fanOut.msPerRecord, 1)} ms, delivery ${fixed(result.serial.delivery.msPerRecord, 1)} ms per message. Delivered ${one.delivered} of ${one.events} (1 destination) and ${three.delivered} of ${three.events * 3} (3), queues and DLQs left: ${one.left} / ${three.left}.`,
    '',
    'AWS calls per source event added by destinations (the source queue\'s receive and delete are today\'s; empty receives are the idle polling, a fixed cost):',
    '',
    '| role, service, operation | 1 destination | 3 destinations |',
    '| --- | ---: | ---: |',
    ...callRows(one, three),
    `| KMS Decrypt (delivery, cached data keys) | ${fixed((one.kms.decrypt * 1000) / Math.max(1, one.events), 2)} per 1,000 | ${fixed((three.kms.decrypt * 1000) / Math.max(1, three.events), 2)} per 1,000 |`,
    '',
    `Messages per invocation: fan-out ${fixed(one.fanOut.batch, 1)}, delivery ${fixed(one.delivery.batch, 1)}; fan-out SendMessageBatch ${fixed(one.sendBatchBytes / 1024, 1)} KB. Log per delivery: ${fixed(one.logBytesPerDelivery, 0)} B in ${fixed(one.logLinesPerDelivery, 2)} lines, EMF ${fixed(one.emfBytesPerDelivery, 0)} B.`,
  ];
}
