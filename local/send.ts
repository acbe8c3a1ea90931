import type { NamedSource } from '../lambda/config/schema';
import { signRequest } from '../lambda/signatures/sign';
import { sampleRequest } from './samples';

/** What `npm run send` got back. */
export interface SendResult {
  readonly status: number;
  readonly statusText: string;
  readonly body: string;
}

/** Options of {@link sendWebhook}. */
export interface SendWebhookOptions {
  /** Base URL of a running hookgate, for example `http://127.0.0.1:3000`. */
  readonly baseUrl: string;
  /** The exact bytes to send. @default the provider's built-in sample */
  readonly body?: Buffer;
  /** @default Date.now() */
  readonly now?: number;
}

/**
 * Signs a webhook for `source` with its first secret, the way its provider would, and POSTs it
 * to `<baseUrl>/webhooks/<source>`.
 */
export async function sendWebhook(source: NamedSource, options: SendWebhookOptions): Promise<SendResult> {
  const secret = source.secrets?.[0];
  if (secret === undefined) throw new Error(`sources.${source.name} has no inline secrets (secretName is resolved on AWS only)`);
  const now = options.now ?? Date.now();
  const sample = sampleRequest(source, secret, now);
  const body = options.body ?? sample.body;
  const url = `${options.baseUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(source.name)}`;
  const signed = signRequest(source, secret, body, { now, url, ...(sample.eventId !== undefined ? { eventId: sample.eventId } : {}) });
  const headers: Record<string, string> = { ...(sample.headers ?? {}), ...signed.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = sample.contentType;
  const response = await fetch(signed.url, { method: 'POST', headers, body });
  return { status: response.status, statusText: response.statusText, body: await response.text() };
}
