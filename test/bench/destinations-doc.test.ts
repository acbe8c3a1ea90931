import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { costModel, usd } from '../../bench/cost';
import { renderCost } from '../../bench/cost-doc';
import { destinationCostModel } from '../../bench/destination-cost';
import { largestItems, renderDestinationCost } from '../../bench/destinations-doc';
import { figures, targets } from '../../bench/report';
import type { BenchResults } from '../../bench/results';
import { destinationFactsOf, destinationsResult, runSummary, stackFactsOf } from './destination-fixtures';

/**
 * The Destinations section of docs/cost.md and of docs/performance.md: rendered from the model,
 * with the verdict against the $1.00 target following the figures.
 */

const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as BenchResults;
const results: BenchResults = { ...committed, destinations: destinationsResult() };

test('the section gives the total per million with 1 and 3 destinations, where the money goes, and the verdict', () => {
  // Prepare
  const model = destinationCostModel(destinationsResult(), destinationFactsOf(), stackFactsOf());
  const [one, three] = model.scenarios;

  // Act
  const text = renderDestinationCost(model, destinationsResult(), 5).join('\n');

  // Assess
  expect(text).toContain('## Destinations');
  expect(text).toContain(`**added per million** | **${usd(one?.total ?? Number.NaN)}** | **${usd(three?.total ?? Number.NaN)}**`);
  const top = largestItems(one?.items ?? [])[0];
  expect(text).toContain(`**Where the money goes (1 destination):** ${top?.item ?? '?'} ${usd(top?.dollars ?? Number.NaN)}`);
  expect((one?.total ?? 0) > 1).toBe(true);
  expect(text).toContain('missed');
  expect(text).toContain('What would make it hold');
});

test('a cheaper delivery path meets the target, and the section says so', () => {
  // Prepare: 128 MB, no history write (inputs chosen so the total falls under $1.00).
  const cheap = runSummary(1, { callsPerEvent: { ...runSummary(1).callsPerEvent, 'delivery DynamoDB PutItem': 0 } });
  const result = destinationsResult({ one: cheap });
  const model = destinationCostModel(result, destinationFactsOf({ memoryMb: 128 }), stackFactsOf());

  // Act
  const text = renderDestinationCost(model, result, 5).join('\n');

  // Assess
  expect(model.scenarios[0]?.total).toBeLessThan(1);
  expect(text).toContain('per million 2 KB events): met**');
});

test('docs/cost.md carries the section only when the run measured destinations', () => {
  // Prepare
  const model = costModel(results, stackFactsOf());
  const destinations = destinationCostModel(destinationsResult(), destinationFactsOf(), stackFactsOf());

  // Act and assess
  expect(renderCost(model, results, destinations)).toContain('\n## Destinations\n');
  expect(renderCost(model, results)).not.toContain('## Destinations');
  expect(renderCost(model, { ...results, destinations: undefined }, destinations)).not.toContain('## Destinations');
});

test('the performance block lists the forwarding ratio and the calls per event; the targets judge the $1.00 and the drain', () => {
  // Act
  const block = figures(results);
  const list = targets(results, 5, 1.5);

  // Assess
  expect(block).toContain('### 5. Destinations');
  expect(block).toContain('**forwarding / bare POST = 0.100**');
  expect(block).toContain('| fan-out SQS SendMessageBatch | 0.100 | 0.300 |');
  expect(list.find((t) => t.name.startsWith('one http destination adds'))?.met).toBe(false);
  expect(list.find((t) => t.name.startsWith('destinations: delivered'))?.met).toBe(true);
});
