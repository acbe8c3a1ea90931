import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '**/*.js', '**/*.mjs'] },
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
);
