import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createEnvelope } from '../../lambda/ingest/envelope';
import { inlineSecrets } from '../../lambda/runtime/secrets';
import { createVerifierHandler } from '../../lambda/verifier/handler';
import { toProxyEvent } from '../../local/apigateway';
import { createLocalKms, localKeyring } from '../../local/kms';
import { lambdaContext } from '../ingest/helpers';
import { testSource } from '../config/sources';
import { telemetry } from './harness';

/** A handshake never reaches AWS: the clients point at a closed port and must stay unused. */
const nowhere = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 };
const clients = { dynamodb: new DynamoDBClient(nowhere), sqs: new SQSClient(nowhere), s3: new S3Client(nowhere) };
afterAll(() => {
  for (const client of Object.values(clients)) client.destroy();
});

const handler = createVerifierHandler({
  source: testSource({ name: 'whatsapp', provider: 'meta' }),
  dedupeTtlDays: 7,
  secrets: inlineSecrets({ secrets: ['app-secret'], verifyToken: 'meatyhamhock' }),
  ...clients,
  tableName: 'unused',
  queueUrl: 'http://127.0.0.1:9/unused',
  bucket: 'unused',
  envelope: createEnvelope(localKeyring(createLocalKms())),
  ...telemetry('whatsapp', { quiet: true }),
});

/** Meta's verification request, as API Gateway hands it to the function. */
const handshake = (challenge: string) =>
  handler(
    toProxyEvent(
      {
        method: 'GET',
        url: `/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=${challenge}&hub.verify_token=meatyhamhock`,
        rawHeaders: ['Host', 'hooks.example.com', 'User-Agent', 'facebookexternalua'],
        body: Buffer.alloc(0),
        sourceIp: '173.252.127.1',
        serverPort: 443,
      },
      'whatsapp',
      { stage: 'prod', proto: 'https' },
    ),
    lambdaContext(),
  );

describe('Meta subscription handshake through the verifier handler', () => {
  it("echoes Meta's sample challenge as text/plain with nosniff", async () => {
    const response = await handshake('1158201444');

    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('1158201444');
    expect(response.headers).toMatchObject({ 'Content-Type': 'text/plain', 'X-Content-Type-Options': 'nosniff' });
  });

  it.each([
    ['markup', '%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    ['an encoded line break', '1%0D%0ASet-Cookie:%20a=b'],
    ['a long value', '9'.repeat(200)],
  ])('refuses a challenge holding %s with 400 malformed_challenge and echoes nothing', async (_label, challenge) => {
    const response = await handshake(challenge);

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'malformed_challenge' });
  });
});
