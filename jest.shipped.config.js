const { spawnSync } = require('node:child_process');

/**
 * The shipped-bundle suite (`npm run test:shipped`): the bundles `cdk synth` writes, run against
 * moto_server. Apart from `npm test`, which needs npm packages only: its files end in
 * `.shipped.ts`, which the main config does not match.
 */
const moto = process.env.MOTO_SERVER ?? 'moto_server';
const probe = spawnSync(moto, ['--help'], { stdio: 'ignore' });
if (probe.error !== undefined || probe.status !== 0) {
  console.error(
    `moto_server is not installed: the shipped-bundle suite runs the bundles against moto_server (Python: pip install 'moto[server]', version 5), ` +
      `found on the PATH or named by MOTO_SERVER. npm test does not need it.`,
  );
  process.exit(1);
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/shipped'],
  testMatch: ['**/*.shipped.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  // Synthesis, moto's start and one process per function happen in beforeAll (its own timeout).
  testTimeout: 30000,
};
