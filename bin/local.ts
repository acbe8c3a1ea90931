#!/usr/bin/env -S npx tsx
/**
 * `npm start -- [--config config/local.json] [--port 3000] [--sink FILE]`
 *
 * Runs the whole webhook path on this machine (docs/local.md): validates the config, starts the
 * emulators, serves the API on 127.0.0.1, polls every source's queue into its processor (or the
 * fan-out to its destinations) and every destination's queue into its delivery. Prints
 * `hookgate local ready`, one line per source and one per destination when ready, and writes
 * the state file `.hookgate/local-<port>.json` (local/state.ts); stops cleanly on SIGINT or
 * SIGTERM (exit 0), removing the state file.
 */
import { startLocal } from '../local/app';
import { loadLocalConfig, parseStartArgs, runMain } from '../local/cli';
import { LOCAL_STATE_DIR, localKeyPath, localStatePath, removeLocalState } from '../local/state';

runMain(async () => {
  const options = parseStartArgs(process.argv.slice(2));
  const config = loadLocalConfig(options.config);
  const app = await startLocal({
    config,
    port: options.port,
    stateDir: LOCAL_STATE_DIR,
    configPath: options.config,
    ...(options.sink !== undefined ? { sink: options.sink } : {}),
  });
  // However the process ends, the state file of a run that is gone does not stay behind.
  process.on('exit', () => removeLocalState([localStatePath(app.port), localKeyPath(app.port)]));

  process.stdout.write(`hookgate local ready on ${app.url} (config ${options.config}${options.sink !== undefined ? `, sink ${options.sink}` : ''})\n`);
  for (const source of app.sources) process.stdout.write(`POST ${source.url}\n`);
  for (const d of app.destinations) process.stdout.write(`DELIVER ${d.source}/${d.name} (${d.type}) -> ${d.target}\n`);
  process.stdout.write(`state ${app.statePath ?? ''}\n`);

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
