import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/kms-keyring-node';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { inlineSecretsOf, parseDedupeTtlDays, parseNamedSource } from '../config/schema';
import { createEnvelope } from '../ingest/envelope';
import { lazyS3Client } from '../ingest/message';
import { ENV, requiredEnv } from '../runtime/env';
import { createLogger, createMetrics, tagInvocation } from '../runtime/observability';
import { errorName } from '../runtime/error-names';
import { inlineSecrets, secretsManagerSecrets } from '../runtime/secrets';
import { createVerifierHandler, type VerifierHandler } from './handler';
import { toHttpResponse } from './http-response';

/**
 * Client settings: time out well inside the function's timeout so a hung dependency becomes a
 * clean 503 (and a deleted dedupe record) rather than a Lambda timeout; two attempts only, the
 * provider retries anyway.
 */
const CLIENT = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } } as const;


/** Builds the verifier from the environment the stack sets (once per cold start). */
export function verifierFromEnv(): VerifierHandler {
  const source = parseNamedSource(JSON.parse(requiredEnv(ENV.source)));
  const keyArn = requiredEnv(ENV.keyArn);
  // cacheClients: one KMS client per region for the process (getClient alone builds one per call).
  const keyring = new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: cacheClients(getClient(KMS, CLIENT)) });
  const logger = createLogger(source.name);
  const verify = createVerifierHandler({
    source,
    secrets:
      source.secretName !== undefined
        ? secretsManagerSecrets(source, { clientConfig: CLIENT })
        : inlineSecrets(inlineSecretsOf(source)),
    dynamodb: new DynamoDBClient(CLIENT),
    sqs: new SQSClient(CLIENT),
    // Loaded on the first body over the SQS limit only: most processes never need it.
    s3: lazyS3Client(CLIENT),
    tableName: requiredEnv(ENV.table),
    queueUrl: requiredEnv(ENV.queueUrl),
    bucket: requiredEnv(ENV.payloadBucket),
    envelope: createEnvelope(keyring),
    dedupeTtlDays: parseDedupeTtlDays(process.env[ENV.dedupeTtlDays]),
    logger,
    metrics: createMetrics(source.name),
  });
  return (event, context) => {
    tagInvocation(logger, context);
    return verify(event, context);
  };
}

let built: VerifierHandler | undefined;

/** The Lambda entry point. A broken environment answers 503 (retryable), never a stack trace. */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  try {
    built ??= verifierFromEnv();
  } catch (err) {
    // Names only: the message could quote the environment.
    console.error(JSON.stringify({ level: 'ERROR', message: 'verifier could not start', error: errorName(err) }));
    return toHttpResponse({ kind: 'unavailable', code: 'configuration' });
  }
  return built(event, context);
}
