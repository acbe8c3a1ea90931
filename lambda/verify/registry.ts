import type { ProviderName } from '../config/types';
import type { ProviderStrategy } from './provider';
import { token } from './providers/token';

/** The one table of provider strategies. */
export const PROVIDER_STRATEGIES: Partial<Record<ProviderName, ProviderStrategy>> = {
  token,
};
