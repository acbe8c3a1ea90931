#!/usr/bin/env -S npx tsx
/**
 * `npm run send -- <source> [--file body.json] [--config config/local.json] [--url http://127.0.0.1:3000]`
 *
 * Sends one correctly signed webhook to a running hookgate the way the source's provider would:
 * a built-in sample body (or the exact bytes of --file), signed with the source's first secret.
 * Prints the status and the response body; exits 1 unless the answer is 2xx.
 */
import { readFile } from 'node:fs/promises';
import { namedSources } from '../lambda/config/schema';
import { loadLocalConfig, parseSendArgs, runMain, UsageError } from '../local/cli';
import { type SendResult, sendWebhook } from '../local/send';

runMain(async () => {
  const options = parseSendArgs(process.argv.slice(2));
  const sources = namedSources(loadLocalConfig(options.config));
  const source = sources.find((s) => s.name === options.source);
  if (source === undefined) {
    throw new UsageError(`unknown source ${JSON.stringify(options.source)}; ${options.config} has: ${sources.map((s) => s.name).join(', ')}`);
  }
  if (source.secrets === undefined) throw new UsageError(`sources.${source.name} has no inline secrets (secretName is resolved on AWS only)`);
  let body: Buffer | undefined;
  if (options.file !== undefined) {
    try {
      body = await readFile(options.file);
    } catch {
      throw new UsageError(`--file ${options.file}: cannot read it`);
    }
  }
  let result: SendResult;
  try {
    result = await sendWebhook(source, { baseUrl: options.url, ...(body !== undefined ? { body } : {}) });
  } catch (err) {
    // fetch rejects only when there was no HTTP answer at all.
    if (err instanceof TypeError) throw new UsageError(`cannot reach ${options.url} (is \`npm start\` running? pass --url otherwise)`);
    throw err;
  }
  process.stdout.write(`${result.status} ${result.statusText}\n${result.body}\n`);
  if (result.status < 200 || result.status > 299) process.exitCode = 1;
});
