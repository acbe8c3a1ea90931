import { bodySignedStrategy } from '../body-signed';
import { compileTemplate } from '../header-hmac';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64>` over the raw body. Neither `X-Shopify-Webhook-Id`
 * nor `X-Shopify-Topic` is signed and nothing bounds a replay in time, so events dedupe on the
 * body hash (the webhook id is kept for logs) and the topic is reported as unsigned.
 */
export const shopify = bodySignedStrategy(
  { header: 'X-Shopify-Hmac-Sha256', algorithm: 'sha256', encoding: 'base64', prefix: '', template: compileTemplate('{body}') },
  { idHeader: 'X-Shopify-Webhook-Id', typeHeader: 'X-Shopify-Topic' },
);
