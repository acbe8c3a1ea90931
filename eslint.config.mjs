import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', 'dist/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'focused tests are errors' },
        { object: 'describe', property: 'skip', message: 'skipped tests are errors' },
        { object: 'it', property: 'only', message: 'focused tests are errors' },
        { object: 'it', property: 'skip', message: 'skipped tests are errors' },
        { object: 'test', property: 'only', message: 'focused tests are errors' },
        { object: 'test', property: 'skip', message: 'skipped tests are errors' },
      ],
      'no-restricted-globals': ['error', { name: 'xit', message: 'skipped tests are errors' }, { name: 'xdescribe', message: 'skipped tests are errors' }, { name: 'fit', message: 'focused tests are errors' }, { name: 'fdescribe', message: 'focused tests are errors' }],
    },
  },
  // Layers point one way: lambda/ runs in a Lambda and imports nothing above it; lib/ (the
  // stack) never imports local mode or the command.
  {
    files: ['lambda/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./)+(local|lib|bench|test|bin|cli)(/|$)',
          message: 'lambda/ holds only code that runs in a Lambda: it must not import local/, lib/, bench/, test/, bin/ or cli/',
        }],
      }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./)+(local|bench|test|bin|cli)(/|$)',
          message: 'lib/ (the stack) must not import local mode, bench, tests, bin or the command (cli/)',
        }],
      }],
    },
  },
  // The command (cli/) builds on lambda/ and lib/ and ships in the npm package (bin.hookgate):
  // from local/ it may import only the modules that ship with it, which load without any
  // devDependency (no emulator). Only bin/ and test/ import it.
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            regex: '^(\\.\\./)+(bench|test|bin)(/|$)',
            message: 'cli/ (the command) must not import bench, tests or bin',
          },
          {
            regex: '^(\\.\\./)+local/(?!(args|endpoints|state|kms)$)',
            message: 'cli/ (the command) must not import local mode beyond local/args, endpoints, state and kms: it ships in the package, the emulators do not',
          },
        ],
      }],
    },
  },
  {
    files: ['local/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(\\.\\./)+cli(/|$)',
          message: 'local/ and bench/ must not import the command (cli/): only bin/ and test/ do',
        }],
      }],
    },
  },
  // What ships with the command from local/ loads without a devDependency: it imports no other
  // local module (the emulators, local mode's servers). A later block replaces the rule for its
  // files, so this one repeats the cli/ pattern.
  {
    files: ['local/args.ts', 'local/endpoints.ts', 'local/state.ts', 'local/kms.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            regex: '^(\\.\\./)+cli(/|$)',
            message: 'local/ and bench/ must not import the command (cli/): only bin/ and test/ do',
          },
          {
            regex: '^\\./(?!(args|endpoints|state|kms)$)',
            message: 'local/args, endpoints, state and kms ship with the command: they must not import other local modules',
          },
        ],
      }],
    },
  },
);
