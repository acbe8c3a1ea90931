import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { NamedDestination } from '../config/destinations';
import { storeEventBody } from './body-ref';
import type { Target } from './contract';
import { createEventBridgeTarget } from './eventbridge-target';
import type { TargetClients } from './function';
import { createHttpTarget } from './http';
import { createLambdaTarget } from './lambda-target';
import { signingSecretsOf } from './signing-secrets';

/**
 * The target of a destination by its type, for the delivery function on AWS (function.ts).
 * SDK clients make one try per attempt: the delivery engine does the retrying.
 */
export function targetFor(destination: NamedDestination, clients: TargetClients): Target {
  switch (destination.type) {
    case 'http':
      // The stack names the signing secret in the environment; the destination JSON holds no secret value.
      return createHttpTarget({ destination, signingSecrets: signingSecretsOf({ secretName: clients.signingSecretName ?? destination.secretName }) });
    case 'lambda':
      return createLambdaTarget({ destination, lambda: new LambdaClient({ maxAttempts: 1 }) });
    case 'eventbridge':
      return createEventBridgeTarget({
        destination,
        eventBridge: new EventBridgeClient({ maxAttempts: 1 }),
        storeBody: (event) => storeEventBody(event, { envelope: clients.envelope, s3: clients.s3, bucket: clients.bucket }),
      });
  }
}
