#!/usr/bin/env -S npx tsx
/**
 * `npm run receive -- [--port 4000] [--secret whsec_...] [--config config/local.json] [--status 200] [--body]`
 *
 * A local receiver for hookgate's `http` destinations: verifies each request's Standard Webhooks
 * signature with the reference library and prints one line per event (the body only with
 * --body). Without --secret it takes the signing secrets of the config's http destinations
 * whose URL points at its port. Answers 204 when verified, 401 otherwise; --status forces an
 * answer, to watch retries.
 */
import { loadLocalConfig, runMain, UsageError } from '../local/cli';
import { parseReceiveArgs, receiverSecrets, startReceiver } from '../local/receive';

runMain(async () => {
  const options = parseReceiveArgs(process.argv.slice(2));
  const secrets = options.secrets ?? receiverSecrets(loadLocalConfig(options.config), options.port);
  if (secrets.length === 0) {
    throw new UsageError(`no http destination in ${options.config} points at port ${options.port} with inline secrets; pass --secret whsec_...`);
  }
  const receiver = await startReceiver({
    secrets,
    port: options.port,
    printBody: options.body,
    ...(options.status !== undefined ? { status: options.status } : {}),
  });
  process.stdout.write(`receiving on ${receiver.url} (${secrets.length} signing secret${secrets.length === 1 ? '' : 's'}); Ctrl-C to stop\n`);
});
