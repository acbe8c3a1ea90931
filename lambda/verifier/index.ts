import { cacheClients, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { inlineSecretsOf, parseDedupeTtlDays, parseNamedSource } from '../config/schema';
import { createEnvelope } from '../ingest/envelope';
import { ENV } from '../runtime/env';
import { createLogger, createMetrics } from '../runtime/observability';
import { inlineSecrets, secretsManagerSecrets } from '../runtime/secrets';
import { createVerifierHandler, type VerifierHandler } from './handler';
import { toHttpResponse } from './http-response';

/**
 * Client settings: time out well inside the function's timeout so a hung dependency becomes a
 * clean 503 (and a deleted dedupe record) rather than a Lambda timeout; two attempts only, the
 * provider retries anyway.
 */
const CLIENT = { maxAttempts: 2, requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 } } as const;

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.length === 0) throw new Error(`${name} is not set`);
  return value;
}

/** Builds the verifier from the environment the stack sets (once per cold start). */
export function verifierFromEnv(): VerifierHandler {
  const source = parseNamedSource(JSON.parse(required(ENV.source)));
  const keyArn = required(ENV.keyArn);
  // cacheClients: one KMS client per region for the process (getClient alone builds one per call).
  const keyring = new KmsKeyringNode({ generatorKeyId: keyArn, clientProvider: cacheClients(getClient(KMS, CLIENT)) });
  return createVerifierHandler({
    source,
    secrets:
      source.secretName !== undefined
        ? secretsManagerSecrets(source, { client: new SecretsManagerClient(CLIENT) })
        : inlineSecrets(inlineSecretsOf(source)),
    dynamodb: new DynamoDBClient(CLIENT),
    sqs: new SQSClient(CLIENT),
    s3: new S3Client(CLIENT),
    tableName: required(ENV.table),
    queueUrl: required(ENV.queueUrl),
    bucket: required(ENV.payloadBucket),
    envelope: createEnvelope(keyring),
    dedupeTtlDays: parseDedupeTtlDays(process.env[ENV.dedupeTtlDays]),
    logger: createLogger(source.name),
    metrics: createMetrics(source.name),
  });
}

let built: VerifierHandler | undefined;

/** The Lambda entry point. A broken environment answers 503 (retryable), never a stack trace. */
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  try {
    built ??= verifierFromEnv();
  } catch (err) {
    // Names only: the message could quote the environment.
    console.error(JSON.stringify({ level: 'ERROR', message: 'verifier could not start', error: err instanceof Error ? err.name : 'unknown' }));
    return toHttpResponse({ kind: 'unavailable', code: 'configuration' });
  }
  return built(event, context);
}
