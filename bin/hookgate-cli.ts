#!/usr/bin/env node
import { runCli } from '../cli/main';

// `hookgate <command> ...` (npx hookgate, or npm run hookgate -- ... from a checkout).
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
