import { destinationSchema, matchesEvents, publicDestination, type NamedDestination } from '../../lambda/config/destinations';
import { problemsOf } from './sources';

const SECRET = 'whsec_aG9va2dhdGUtbG9jYWwtZGV2LXNlY3JldC0zMmJ5dGU=';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ehr-intake';

/** A config with one source whose destinations are `destinations`. */
const withDestinations = (destinations: unknown): unknown => ({ sources: { stripe: { provider: 'stripe', secretName: 'hookgate/dev/stripe', destinations } } });
const problems = (destinations: unknown, environment = 'dev'): readonly string[] => problemsOf(withDestinations(destinations), environment);
const field = (destination: string, rest: string): string => `sources.stripe.destinations.${destination}.${rest}`;

describe('the destinations of a source', () => {
  it('accepts the shape of the issue: http, lambda and eventbridge side by side', () => {
    expect(
      problems({
        billing: { type: 'http', url: 'https://billing.internal.example/hooks', secretName: 'hookgate/prod/out/billing', events: ['payment_intent.*'], allowPrivateNetwork: true },
        ehr: { type: 'lambda', entry: 'processors/ehr.ts' },
        bus: { type: 'eventbridge', busName: 'clinical-events' },
      }),
    ).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['an unknown type', { billing: { type: 'sns' } }, field('billing', 'type must be http, lambda or eventbridge')],
    ['a bad name', { Billing: { type: 'eventbridge', busName: 'b' } }, "sources.stripe.destinations.Billing: a destination's name: lowercase letters, digits and '-', at most 32"],
    ['a filter with a star inside a name', { bus: { type: 'eventbridge', busName: 'b', events: ['payment*intent'] } }, field('bus', 'events[0] must be an event type, prefix.* or *')],
    ['an empty filter', { bus: { type: 'eventbridge', busName: 'b', events: [] } }, field('bus', 'events must be a non-empty list of event types')],
    ['a retry window longer than SQS keeps a message', { bus: { type: 'eventbridge', busName: 'b', retryWindowHours: 13 * 24 + 1 } }, field('bus', 'retryWindowHours must be a whole number from 1 to 312')],
    ['a timeout over a minute', { bus: { type: 'eventbridge', busName: 'b', timeoutSeconds: 61 } }, field('bus', 'timeoutSeconds must be a whole number from 1 to 60')],
    ['an unknown field', { bus: { type: 'eventbridge', busName: 'b', retries: 3 } }, field('bus', 'retries is not a known field')],
  ])('refuses %s, naming the destination', (_what, destinations, message) => {
    expect(problems(destinations)).toContainEqual(expect.stringContaining(message));
  });
});

describe('event filters', () => {
  it.each<[readonly string[] | undefined, string | undefined, boolean]>([
    [undefined, 'payment_intent.succeeded', true],
    [undefined, undefined, true],
    [['*'], 'anything', true],
    [['*'], undefined, true],
    [['payment_intent.succeeded'], 'payment_intent.succeeded', true],
    [['payment_intent.succeeded'], 'payment_intent.failed', false],
    [['payment_intent.*'], 'payment_intent.failed', true],
    [['payment_intent.*'], 'payment_intent', false],
    [['payment_intent.*'], 'payment_intentx.failed', false],
    [['payment_intent.*'], undefined, false],
    [['charge.refunded', 'payment_intent.*'], 'charge.refunded', true],
    [['charge.refunded'], undefined, false],
  ])('filter %j and event type %j: %s', (events, eventType, delivered) => {
    expect(matchesEvents(events, eventType)).toBe(delivered);
  });

  it('the schema accepts exact names, prefix.* and *', () => {
    expect(problems({ bus: { type: 'eventbridge', busName: 'b', events: ['order.created', 'payment_intent.*', '*'] } })).toEqual([]);
  });
});

describe('http destinations', () => {
  it.each<[string, string]>([
    ['https://169.254.169.254/latest/meta-data/', 'is a refused address (metadata)'],
    ['https://[fd00:ec2::254]/', 'is a refused address (metadata)'],
    ['https://[::ffff:169.254.169.254]/', 'is a refused address (metadata)'],
    ['https://0xA9FEA9FE/', 'is a refused address (metadata)'],
    ['https://169.254.10.1/', 'is a refused address (link-local)'],
    ['https://0.0.0.0/', 'is a refused address (unspecified)'],
    ['https://224.0.0.1/', 'is a refused address (multicast)'],
    ['https://192.0.2.1/', 'is a refused address (reserved)'],
    ['https://10.0.0.1/hooks', 'is a refused address (private) (set allowPrivateNetwork for an internal service)'],
  ])('a URL whose host is the literal refused address %s is refused at config load, naming the destination', (url, message) => {
    expect(problems({ billing: { type: 'http', url, secretName: 'hookgate/dev/out/billing' } })).toEqual([field('billing', `url ${message}`)]);
    // Local mode refuses them too: only loopback is judged per environment.
    expect(problems({ billing: { type: 'http', url, secrets: [SECRET] } }, 'local')).toEqual([field('billing', `url ${message}`)]);
  });

  it('a private literal address is allowed with allowPrivateNetwork, the metadata address never', () => {
    expect(problems({ billing: { type: 'http', url: 'https://10.0.0.1/hooks', secretName: 'n', allowPrivateNetwork: true } })).toEqual([]);
    expect(problems({ billing: { type: 'http', url: 'https://169.254.169.254/', secretName: 'n', allowPrivateNetwork: true } })).toEqual([field('billing', 'url is a refused address (metadata)')]);
  });

  it.each<[string, string]>([
    ['billing.internal.example/hooks', 'url must be an absolute https URL'],
    ['ftp://billing.internal.example/', 'url must be an absolute https URL'],
    ['https://user:pass@billing.internal.example/', 'url must not carry credentials (sign with secretName instead)'],
    ['https://billing.internal.example/hooks#x', 'url must not have a #fragment'],
  ])('refuses the URL %s', (url, message) => {
    expect(problems({ billing: { type: 'http', url, secretName: 'n' } })).toEqual([field('billing', message)]);
  });

  it('is always signed: secrets or secretName, one of them', () => {
    expect(problems({ billing: { type: 'http', url: 'https://a.example/' } })).toEqual([field('billing', 'secretName is required: outbound requests are always signed')]);
    expect(problems({ billing: { type: 'http', url: 'http://127.0.0.1:4000/', secrets: [SECRET], secretName: 'n' } }, 'local')).toEqual([
      'sources.stripe.destinations.billing: give either secrets or secretName, not both',
    ]);
  });

  it('checks inline signing secrets by the Standard Webhooks secret rule', () => {
    expect(problems({ billing: { type: 'http', url: 'http://127.0.0.1:4000/', secrets: ['whsec_AB'] } }, 'local')).toEqual([
      field('billing', 'secrets[0] must decode to at least 16 bytes (128 bits) for a Standard Webhooks signing secret; the spec recommends 24 to 64 random bytes'),
    ]);
    expect(problems({ billing: { type: 'http', url: 'http://127.0.0.1:4000/', secrets: ['not base64!'] } }, 'local')).toEqual([
      field('billing', 'secrets[0] must be base64, optionally prefixed whsec_, for a Standard Webhooks signing secret'),
    ]);
  });

  it('allows plain http, a loopback host and inline secrets in local and test configs', () => {
    const local = { billing: { type: 'http', url: 'http://127.0.0.1:4000/hooks', secrets: [SECRET] }, other: { type: 'http', url: 'http://localhost:4001/', secrets: [SECRET] } };
    expect(problems(local, 'local')).toEqual([]);
    expect(problems(local, 'test')).toEqual([]);
  });

  it('refuses plain http, loopback hosts and inline secrets in deployed environments, each naming its field', () => {
    expect(problems({ billing: { type: 'http', url: 'http://127.0.0.1:4000/hooks', secrets: [SECRET] } }, 'prod')).toEqual([
      field('billing', 'secrets: deployed environments must not hold secret values; use secretName'),
      field('billing', 'url must use https (http is for local and test configs only)'),
      field('billing', 'url is a refused address (loopback is for local mode only)'),
    ]);
    expect(problems({ billing: { type: 'http', url: 'https://localhost/hooks', secretName: 'n' } }, 'prod')).toEqual([field('billing', 'url is a refused address (loopback is for local mode only)')]);
    expect(problems({ billing: { type: 'http', url: 'https://[::1]/hooks', secretName: 'n' } }, 'prod')).toEqual([field('billing', 'url is a refused address (loopback is for local mode only)')]);
  });

  it('applies the defaults: no private network, 15 s timeout, a day of retries, a breaker', () => {
    const parsed = destinationSchema.parse({ type: 'http', url: 'https://a.example/', secretName: 'n' });
    expect(parsed).toMatchObject({
      allowPrivateNetwork: false,
      timeoutSeconds: 15,
      retryWindowHours: 24,
      backoffBaseSeconds: 30,
      maxBackoffSeconds: 3600,
      maxInFlight: 10,
      batchSize: 10,
      circuitBreaker: { failureThreshold: 5, openSeconds: 60 },
    });
    expect(parsed.events).toBeUndefined();
    expect(parsed.maxPerSecond).toBeUndefined();
  });

  it("a function's view of the destination carries no secret value", () => {
    const destination = { ...destinationSchema.parse({ type: 'http', url: 'http://127.0.0.1:4000/', secrets: [SECRET] }), name: 'billing', source: 'stripe' } as NamedDestination;
    const seen = publicDestination(destination);
    expect(JSON.stringify(seen)).not.toContain(SECRET);
    expect(seen).toMatchObject({ type: 'http', url: 'http://127.0.0.1:4000/', name: 'billing', source: 'stripe' });
  });
});

describe('lambda destinations', () => {
  it('take entry or functionArn', () => {
    expect(problems({ ehr: { type: 'lambda', entry: 'processors/ehr.ts' } })).toEqual([]);
    expect(problems({ ehr: { type: 'lambda', functionArn: ARN } })).toEqual([]);
    expect(problems({ ehr: { type: 'lambda', functionArn: `${ARN}:live` } })).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['neither', { type: 'lambda' }],
    ['both', { type: 'lambda', entry: 'processors/ehr.ts', functionArn: ARN }],
  ])('refuses %s of entry and functionArn', (_what, destination) => {
    expect(problems({ ehr: destination })).toEqual(['sources.stripe.destinations.ehr: a lambda destination needs exactly one of entry or functionArn']);
  });

  it('refuses a functionArn that is not a Lambda function ARN', () => {
    expect(problems({ ehr: { type: 'lambda', functionArn: 'arn:aws:sqs:us-east-1:123456789012:queue' } })).toEqual([field('ehr', 'functionArn must be a Lambda function ARN')]);
  });

  it('applies the defaults of a bundled function', () => {
    expect(destinationSchema.parse({ type: 'lambda', entry: 'processors/ehr.ts' })).toMatchObject({ maxReceiveCount: 5, memorySize: 256, timeoutSeconds: 15 });
  });
});

describe('eventbridge destinations', () => {
  it('need a bus and default the detail type', () => {
    expect(destinationSchema.parse({ type: 'eventbridge', busName: 'clinical-events' })).toMatchObject({ busName: 'clinical-events', detailType: 'hookgate.webhook', retryWindowHours: 24 });
    expect(problems({ bus: { type: 'eventbridge' } })).toEqual([field('bus', 'busName must be a non-empty string')]);
  });

  it("take another account's bus by ARN and a detail type of their own", () => {
    expect(problems({ bus: { type: 'eventbridge', busName: 'arn:aws:events:us-east-1:123456789012:event-bus/clinical', detailType: 'clinic.event' } })).toEqual([]);
  });
});
