import type { NamedDestination } from '../config/destinations';
import type { AttemptContext, AttemptResult, DeliveryEvent, Target } from './contract';
import type { TargetClients } from './function';

/**
 * A target built on its first attempt: each type loads only its own SDK client (esbuild keeps a
 * dynamically imported module's code unevaluated until the import runs), so an http delivery
 * function does not pay the Lambda and EventBridge clients at cold start.
 */
export function lazyTarget(load: () => Promise<Target>): Target {
  let target: Promise<Target> | undefined;
  return {
    async deliver(event: DeliveryEvent, context: AttemptContext): Promise<AttemptResult> {
      target ??= load().catch((err: unknown) => {
        // A failed load (not expected: the code is in the bundle) is retried on the next attempt.
        target = undefined;
        throw err;
      });
      return (await target).deliver(event, context);
    },
  };
}

/**
 * The target of a destination by its type, for the delivery function on AWS (function.ts).
 * SDK clients make one try per attempt: the delivery engine does the retrying.
 */
export function targetFor(destination: NamedDestination, clients: TargetClients): Target {
  switch (destination.type) {
    case 'http':
      return lazyTarget(async () => {
        const [{ createHttpTarget }, { signingSecretsOf }] = await Promise.all([import('./http'), import('./signing-secrets')]);
        // The stack names the signing secret in the environment; the destination JSON holds no secret value.
        return createHttpTarget({ destination, signingSecrets: signingSecretsOf({ secretName: clients.signingSecretName ?? destination.secretName }) });
      });
    case 'lambda':
      return lazyTarget(async () => {
        const [{ LambdaClient }, { createLambdaTarget }] = await Promise.all([import('@aws-sdk/client-lambda'), import('./lambda-target')]);
        return createLambdaTarget({ destination, lambda: new LambdaClient({ maxAttempts: 1 }) });
      });
    case 'eventbridge':
      return lazyTarget(async () => {
        const [{ EventBridgeClient }, { createEventBridgeTarget }, { storeEventBody }] = await Promise.all([
          import('@aws-sdk/client-eventbridge'),
          import('./eventbridge-target'),
          import('./body-ref'),
        ]);
        return createEventBridgeTarget({
          destination,
          eventBridge: new EventBridgeClient({ maxAttempts: 1 }),
          storeBody: (event) => storeEventBody(event, { envelope: clients.envelope, s3: clients.s3, bucket: clients.bucket }),
        });
      });
  }
}
