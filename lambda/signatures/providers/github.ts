import { checkHeaderHmac, HUB_SIGNATURE_256, signHeaderHmac } from '../header-hmac';
import { header } from '../header-values';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';

const SCHEME = HUB_SIGNATURE_256;
const DELIVERY = 'X-GitHub-Delivery';
const EVENT = 'X-GitHub-Event';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body. Neither `X-GitHub-Delivery`
 * nor `X-GitHub-Event` is signed and nothing bounds a replay in time, so events dedupe on the
 * body hash (the delivery id is kept for logs) and the type is reported as unsigned.
 */
export const github: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: () => [SCHEME.header],
  verify(request, context) {
    const problem = checkHeaderHmac(SCHEME, request, context);
    if (problem !== undefined) return rejected(problem);
    const { headers, body } = request;
    return acceptedEvent(context, body, { id: header(headers, DELIVERY), type: header(headers, EVENT) });
  },
  sign(_source, secret, body, { now, url, eventId }) {
    const headers = signHeaderHmac(SCHEME, secret, body, now);
    if (eventId !== undefined) headers[DELIVERY] = eventId;
    return { url, headers };
  },
};
