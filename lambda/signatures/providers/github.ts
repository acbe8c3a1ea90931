import { bodySignedStrategy } from '../body-signed';
import { HUB_SIGNATURE_256 } from '../header-hmac';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex>` over the raw body. Neither `X-GitHub-Delivery`
 * nor `X-GitHub-Event` is signed and nothing bounds a replay in time, so events dedupe on the
 * body hash (the delivery id is kept for logs) and the type is reported as unsigned.
 */
export const github = bodySignedStrategy(HUB_SIGNATURE_256, { idHeader: 'X-GitHub-Delivery', typeHeader: 'X-GitHub-Event' });
