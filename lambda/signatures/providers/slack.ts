import { compileTemplate, checkHeaderHmac, type HeaderHmacScheme, signHeaderHmac } from '../header-hmac';
import { parseJsonObject, stringField } from '../json';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';

const SCHEME: HeaderHmacScheme = {
  header: 'X-Slack-Signature',
  algorithm: 'sha256',
  encoding: 'hex',
  prefix: 'v0=',
  timestampHeader: 'X-Slack-Request-Timestamp',
  template: compileTemplate('v0:{timestamp}:{body}'),
};

/**
 * Slack: `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<raw body>`, with the replay window on
 * `X-Slack-Request-Timestamp`. A signed `url_verification` is answered with its challenge as
 * text/plain (Slack accepts plain text, JSON or form). Events API payloads dedupe on `event_id`
 * (Slack keeps it across retries); slash commands and interactivity (form bodies) on the body hash.
 */
export const slack: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SCHEME.header],
  verify(request, context) {
    const problem = checkHeaderHmac(SCHEME, request, context);
    if (problem !== undefined) return rejected(problem);
    const payload = parseJsonObject(request.body);
    const type = stringField(payload, 'type');
    const challenge = stringField(payload, 'challenge');
    if (type === 'url_verification' && challenge !== undefined) {
      return { kind: 'challenge', status: 200, contentType: 'text/plain', body: challenge };
    }
    const inner = payload?.event;
    const innerType = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>).type : undefined;
    const eventType = typeof innerType === 'string' ? innerType : type;
    // Both come from the signed body.
    return acceptedEvent(context, request.body, { id: stringField(payload, 'event_id'), type: eventType, idSigned: true, typeSigned: true });
  },
  sign(_source, secret, body, { now, url }) {
    return { url, headers: signHeaderHmac(SCHEME, secret, body, now) };
  },
};
