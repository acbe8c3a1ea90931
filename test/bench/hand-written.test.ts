import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAND_WRITTEN_BEGIN, outputPlan, writeOutputs } from '../../bench/output';

/** docs/cost.md is generated, except its hand-written end (the archive's arithmetic), which every run keeps. */

const HAND = `${HAND_WRITTEN_BEGIN}\n\n## Archive\n\nWritten by hand.\n`;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hookgate-hand-written-'));
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'performance.md'), '# Performance\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it.each([true, false])('a run (--write: %s) regenerates docs/cost.md and keeps its hand-written end', (write) => {
  writeFileSync(join(root, 'docs', 'cost.md'), `# Cost (old)\n\nold figures\n\n${HAND}`);
  const plan = outputPlan(root, write);
  writeOutputs(plan, { results: '{}\n', figures: 'new', cost: '# Cost (new)\n' });
  expect(readFileSync(plan.cost, 'utf8')).toBe(`# Cost (new)\n\n${HAND}`);
});

it('a doc without the marker is replaced whole', () => {
  writeFileSync(join(root, 'docs', 'cost.md'), '# Cost (old)\n');
  const plan = outputPlan(root, true);
  writeOutputs(plan, { results: '{}\n', figures: 'new', cost: '# Cost (new)\n' });
  expect(readFileSync(plan.cost, 'utf8')).toBe('# Cost (new)\n');
});
