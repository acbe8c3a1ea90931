#!/usr/bin/env -S npx tsx
/**
 * `npm run send -- <source> [--file body.json] [--config config/local.json] [--url http://127.0.0.1:3000]`
 *
 * Sends one correctly signed webhook to a running hookgate (local or deployed) the way the
 * source's provider would: a built-in sample body (or the exact bytes of --file), signed with
 * the source's first secret. Prints the status and the response body; exits 1 unless 2xx.
 */
import { readFile } from 'node:fs/promises';
import { namedSources } from '../lambda/config/validate';
import { loadLocalConfig, parseSendArgs, runMain, UsageError } from '../local/cli';
import { sampleRequest } from '../local/samples';
import { signRequest } from '../lambda/verify/sign';

runMain(async () => {
  const options = parseSendArgs(process.argv.slice(2));
  const config = loadLocalConfig(options.config);
  const sources = namedSources(config);
  const source = sources.find((s) => s.name === options.source);
  if (source === undefined) {
    throw new UsageError(`unknown source ${JSON.stringify(options.source)}; ${options.config} has: ${sources.map((s) => s.name).join(', ')}`);
  }
  const secret = source.secrets?.[0];
  if (secret === undefined) throw new UsageError(`sources.${source.name} has no inline secrets (secretName is resolved on AWS only)`);

  const now = Date.now();
  const sample = sampleRequest(source, secret, now);
  const body = options.file !== undefined ? await readFile(options.file) : sample.body;
  const target = `${options.url.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(source.name)}`;
  const signed = signRequest(source, secret, body, { now, url: target, ...(sample.eventId !== undefined ? { eventId: sample.eventId } : {}) });
  const headers: Record<string, string> = { ...(sample.headers ?? {}), ...signed.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = sample.contentType;

  const response = await fetch(signed.url, { method: 'POST', headers, body });
  process.stdout.write(`${response.status} ${response.statusText}\n${await response.text()}\n`);
  if (!response.ok) process.exitCode = 1;
});
