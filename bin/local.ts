#!/usr/bin/env -S npx tsx
/**
 * `npm start -- [--config config/local.json] [--port 3000] [--sink FILE]`
 *
 * Runs the whole webhook path on this machine (docs/local.md): validates the config, starts the
 * emulators, serves the API on 127.0.0.1 and polls every source's queue into its processor.
 * Prints `hookgate local ready` and one line per source when ready; stops cleanly on SIGINT or
 * SIGTERM (exit 0).
 */
import { startLocal } from '../local/app';
import { loadLocalConfig, parseStartArgs, runMain } from '../local/cli';

runMain(async () => {
  const options = parseStartArgs(process.argv.slice(2));
  const config = loadLocalConfig(options.config);
  const app = await startLocal({ config, port: options.port, ...(options.sink !== undefined ? { sink: options.sink } : {}) });

  process.stdout.write(`hookgate local ready on ${app.url} (config ${options.config}${options.sink !== undefined ? `, sink ${options.sink}` : ''})\n`);
  for (const source of app.sources) process.stdout.write(`POST ${source.url}\n`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A second signal: the user wants out now.
      process.exit(130);
    }
    stopping = true;
    process.stdout.write(`hookgate local stopping (${signal})\n`);
    app.stop().then(
      () => {
        process.stdout.write('hookgate local stopped\n');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
});
