import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIGURES_BEGIN, FIGURES_END, outputPlan, parseBenchArgs, writeOutputs } from '../../bench/output';

/**
 * A bench run leaves the tree alone unless asked: proved on a scratch git repository holding the
 * three tracked outputs and the repository's own .gitignore, without running the bench itself.
 */

const ROOT = join(__dirname, '..', '..');
const PROSE_BEFORE = '# Performance\n\nHow to read the figures.\n\n';
const PROSE_AFTER = '\n\n## Reading the figures\n\nWritten by hand.\n';
const TRACKED: Record<string, string> = {
  'bench/results.json': '{"old":true}\n',
  'docs/cost.md': '# Cost (old)\n',
  'docs/performance.md': `${PROSE_BEFORE}${FIGURES_BEGIN}\nold figures\n${FIGURES_END}${PROSE_AFTER}`,
};
const OUTPUTS = { results: '{"new":true}\n', figures: 'new figures', cost: '# Cost (new)\n' };

let repo: string;

function git(...args: string[]): string {
  const run = spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

const read = (path: string): string => readFileSync(join(repo, path), 'utf8');

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'hookgate-bench-output-'));
  git('init', '-q');
  copyFileSync(join(ROOT, '.gitignore'), join(repo, '.gitignore'));
  for (const [path, text] of Object.entries(TRACKED)) {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  git('add', '-A');
  git('commit', '-q', '-m', 'tracked outputs');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

test('a run without --write changes no tracked file and leaves git status clean', () => {
  // Prepare
  const plan = outputPlan(repo, parseBenchArgs([]).write);

  // Act
  const written = writeOutputs(plan, OUTPUTS);

  // Assess
  expect(git('status', '--porcelain', '--untracked-files=all')).toBe('');
  for (const [path, text] of Object.entries(TRACKED)) expect(read(path)).toBe(text);
  expect(written).toEqual([join(repo, '.bench', 'results.json'), join(repo, '.bench', 'performance.md'), join(repo, '.bench', 'cost.md')]);
  expect(read('.bench/results.json')).toBe(OUTPUTS.results);
  expect(read('.bench/cost.md')).toBe(OUTPUTS.cost);
  expect(read('.bench/performance.md')).toBe(`${PROSE_BEFORE}${FIGURES_BEGIN}\nnew figures\n${FIGURES_END}${PROSE_AFTER}`);
});

test('with --write the three committed outputs are updated, and in the performance doc only the generated block', () => {
  // Prepare
  const plan = outputPlan(repo, parseBenchArgs(['--write']).write);

  // Act
  writeOutputs(plan, OUTPUTS);

  // Assess
  expect(git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).sort()).toEqual([' M bench/results.json', ' M docs/cost.md', ' M docs/performance.md']);
  expect(read('bench/results.json')).toBe(OUTPUTS.results);
  expect(read('docs/cost.md')).toBe(OUTPUTS.cost);
  expect(read('docs/performance.md')).toBe(`${PROSE_BEFORE}${FIGURES_BEGIN}\nnew figures\n${FIGURES_END}${PROSE_AFTER}`);
});

test('an unknown argument is refused before any work, and the -- that npx passes through is not one', () => {
  // Act and assess
  expect(() => parseBenchArgs(['--wirte'])).toThrow('unknown argument --wirte');
  expect(parseBenchArgs(['--', '--write'])).toEqual({ write: true });
});
