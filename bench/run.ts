/**
 * `npm run bench`: verification cost, local end-to-end throughput against its floor, AWS calls
 * per event, destinations, cold start, the archive's writes and listings, then the cost model.
 * Every figure is a ratio against a baseline measured in the same run (the machine is shared and noisy); nothing here is a timed test assertion.
 * Writes into .bench/ (ignored); `npm run bench -- --write` updates the committed figures
 * (bench/results.json, docs/cost.md and the generated block of docs/performance.md).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { benchArchive } from './archive';
import { archiveCostModel } from './archive-cost';
import { benchColdStart } from './coldstart';
import { costModel, headline } from './cost';
import { renderCost } from './cost-doc';
import { destinationCostModel } from './destination-cost';
import { destinationFacts } from './destination-facts';
import { benchDestinations } from './destinations';
import { benchE2e } from './e2e';
import { outputPlan, parseBenchArgs, writeOutputs } from './output';
import { figures, targets } from './report';
import type { BenchResults, Machine } from './results';
import { stackFacts } from './stack-facts';
import { benchVerify } from './verify';

const ROOT = join(__dirname, '..');

const progress = (line: string): void => void process.stderr.write(`${line}\n`);

function machine(load: number): Machine {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    loadAverage: [load, loadavg()[0] ?? 0],
  };
}

async function main(): Promise<void> {
  // Before any work: a typo in the flag should not cost a whole run.
  const plan = outputPlan(ROOT, parseBenchArgs(process.argv.slice(2)).write);
  const started = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  progress('1/6 verification cost per provider ...');
  const verify = await benchVerify();
  progress('2/6 local end to end, floor, AWS calls ...');
  const e2e = await benchE2e(undefined, progress);
  progress('3/6 destinations: forwarding vs bare POST, AWS calls ...');
  const destinations = await benchDestinations(undefined, progress);
  progress('4/6 cold start ...');
  const coldStart = await benchColdStart();
  progress('5/6 stack facts (synthesizes the reference stack and a variant with destinations) ...');
  const facts = stackFacts();
  const destinationModel = destinationCostModel(destinations, destinationFacts(facts.interfaceEndpoints), facts);
  progress("6/6 archive: S3 calls and bytes per event at the template's batches, listings against a baseline ...");
  const archive = await benchArchive({ batches: [1, 10, 25, facts.archive.processorBatch, facts.archive.fanOutBatch] }, progress);
  const archiveModel = archiveCostModel(archive, facts);
  const partial = { machine: machine(loadAtStart), seconds: (Date.now() - started) / 1000, verify, e2e, destinations, coldStart, archive };
  // The cost model needs only the measured figures; the targets need the model's headline.
  const model = costModel({ ...partial, targets: [] }, facts);
  const results: BenchResults = { ...partial, targets: targets(partial, headline(model, 10_000_000, false), destinationModel.scenarios[0]?.total, archiveModel) };
  const block = figures(results);
  const written = writeOutputs(plan, { results: `${JSON.stringify(results, null, 2)}\n`, figures: block, cost: renderCost(model, results, destinationModel, archiveModel) });
  console.log(block);
  const missed = results.targets.filter((t) => !t.met);
  console.log(`\n${results.targets.length - missed.length} of ${results.targets.length} targets met; wrote ${written.map((f) => relative(ROOT, f)).join(', ')}`);
  if (!plan.committed) console.log('The committed figures are unchanged; `npm run bench -- --write` updates them.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
