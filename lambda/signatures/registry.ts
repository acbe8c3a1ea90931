import type { ProviderName } from '../config/schema';
import type { ProviderStrategy } from './provider';
import { github } from './providers/github';
import { hmac } from './providers/hmac';
import { meta } from './providers/meta';
import { shopify } from './providers/shopify';
import { slack } from './providers/slack';
import { standard } from './providers/standard';
import { stripe } from './providers/stripe';
import { token } from './providers/token';
import { twilio } from './providers/twilio';
import { zoho } from './providers/zoho';

/** The one table of provider strategies: every provider name has exactly one. */
export const PROVIDER_STRATEGIES: Readonly<Record<ProviderName, ProviderStrategy>> = {
  stripe,
  twilio,
  meta,
  github,
  shopify,
  slack,
  standard,
  zoho,
  hmac,
  token,
};
