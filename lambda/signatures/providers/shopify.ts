import { compileTemplate, checkHeaderHmac, type HeaderHmacScheme, signHeaderHmac } from '../header-hmac';
import { header } from '../header-values';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';

const SCHEME: HeaderHmacScheme = {
  header: 'X-Shopify-Hmac-Sha256',
  algorithm: 'sha256',
  encoding: 'base64',
  prefix: '',
  template: compileTemplate('{body}'),
};
const WEBHOOK_ID = 'X-Shopify-Webhook-Id';
const TOPIC = 'X-Shopify-Topic';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body. Neither `X-Shopify-Webhook-Id`
 * nor `X-Shopify-Topic` is signed and nothing bounds a replay in time, so events dedupe on the
 * body hash (the webhook id is kept for logs) and the topic is reported as unsigned.
 */
export const shopify: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SCHEME.header],
  verify(request, context) {
    const problem = checkHeaderHmac(SCHEME, request, context);
    if (problem !== undefined) return rejected(problem);
    const { headers, body } = request;
    return acceptedEvent(context, body, { id: header(headers, WEBHOOK_ID), type: header(headers, TOPIC) });
  },
  sign(_source, secret, body, { now, url, eventId }) {
    const headers = signHeaderHmac(SCHEME, secret, body, now);
    if (eventId !== undefined) headers[WEBHOOK_ID] = eventId;
    return { url, headers };
  },
};
