import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The lint keeps the layers pointing one way. Each case lints a one-line fixture as if it sat at
 * the given path, with the project's own eslint config. ESLint loads its flat config with a
 * dynamic import, which jest's VM cannot do, so one child process lints every fixture.
 */
const root = path.resolve(__dirname, '../..');

const refused: ReadonlyArray<readonly [string, string]> = [
  ['lambda/verifier/fixture.ts', '../../local/emulators'],
  ['lambda/verifier/fixture.ts', '../../lib/hookgate-stack'],
  ['lambda/ingest/fixture.ts', '../../bench/stats'],
  ['lambda/processor/fixture.ts', '../../test/processor/fixtures'],
  ['lambda/signatures/providers/fixture.ts', '../../../local/kms'],
  ['lib/constructs/fixture.ts', '../../local/emulators'],
  ['lib/fixture.ts', '../local/app'],
  ['lambda/delivery/fixture.ts', '../../cli/audit'],
  ['lib/constructs/fixture.ts', '../../cli/main'],
  ['lib/fixture.ts', '../cli/targets/aws'],
  ['cli/commands/fixture.ts', '../../test/cli/harness'],
  ['cli/commands/fixture.ts', '../../bench/stats'],
  ['cli/targets/fixture.ts', '../../local/emulators'],
  ['cli/fixture.ts', '../local/cli'],
  ['local/fixture.ts', '../cli/main'],
  ['bench/fixture.ts', '../cli/audit'],
  ['local/state.ts', './emulators'],
  ['local/state.ts', '../cli/errors'],
];
const allowed: ReadonlyArray<readonly [string, string]> = [
  ['lambda/verifier/fixture.ts', '../ingest/envelope'],
  ['lambda/signatures/providers/fixture.ts', '../hmac-digest'],
  ['lib/constructs/fixture.ts', '../../lambda/runtime/telemetry'],
  ['local/fixture.ts', '../lambda/verifier/handler'],
  ['bench/fixture.ts', '../local/kms'],
  ['cli/commands/fixture.ts', '../../lambda/delivery/circuit'],
  ['cli/targets/fixture.ts', '../../lib/stack-outputs'],
  ['bin/fixture.ts', '../cli/main'],
  ['test/cli/fixture.ts', '../../cli/audit'],
  ['cli/targets/fixture.ts', '../../local/endpoints'],
  ['cli/fixture.ts', '../local/args'],
  ['cli/targets/fixture.ts', '../../local/state'],
  ['local/state.ts', './kms'],
  ['local/emulators.ts', './endpoints'],
];

const LINT_ALL = `
const { ESLint } = require('eslint');
const cases = JSON.parse(process.argv[1]);
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const [file, specifier] of cases) {
    const code = "import { x } from '" + specifier + "';\\nexport const y = x;\\n";
    const [result] = await eslint.lintText(code, { filePath: require('node:path').resolve(file) });
    out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})();
`;

function lintImports(cases: ReadonlyArray<readonly [string, string]>): string[][] {
  const out = execFileSync(process.execPath, ['-e', LINT_ALL, JSON.stringify(cases)], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as string[][];
}

describe('layering lint', () => {
  let results: string[][];
  beforeAll(() => {
    results = lintImports([...refused, ...allowed]);
  }, 60_000);

  it.each(refused.map((c, i) => [...c, i] as const))('%s importing %s fails the lint', (_file, _spec, i) => {
    expect(results[i]).toHaveLength(1);
    expect(results[i]?.[0]).toMatch(/must not import/);
  });

  it.each(allowed.map((c, i) => [...c, refused.length + i] as const))('%s importing %s passes', (_file, _spec, i) => {
    expect(results[i]).toEqual([]);
  });
});
