import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny fake of the AWS calls the command makes that no emulator here serves: CloudFormation
 * DescribeStacks and STS GetCallerIdentity (query protocol, XML) and CloudWatch GetMetricData
 * (JSON 1.0). One loopback server; point each service's endpoint at it.
 */
export interface FakeAws {
  readonly endpoint: string;
  /** Outputs per stack name; a stack not here answers ValidationError. */
  readonly stacks: Map<string, { OutputKey: string; OutputValue: string }[]>;
  /** Stack names whose DescribeStacks answers AccessDenied. */
  readonly deniedStacks: Set<string>;
  callerArn: string;
  /** GetMetricData answers: Id → [epoch seconds, value][]. */
  metrics: Record<string, [number, number][]>;
  readonly calls: string[];
  stop(): Promise<void>;
}

const xmlEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function queryError(code: string): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>1</RequestId></ErrorResponse>`;
}

export async function startFakeAws(): Promise<FakeAws> {
  const fake = { stacks: new Map(), deniedStacks: new Set<string>(), callerArn: '', metrics: {}, calls: [] as string[] } as Omit<FakeAws, 'endpoint' | 'stop'>;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string') {
        fake.calls.push(target);
        const input = JSON.parse(body) as { MetricDataQueries: { Id: string }[] };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ MetricDataResults: input.MetricDataQueries.map((q) => ({ Id: q.Id, Timestamps: (fake.metrics[q.Id] ?? []).map(([t]) => t), Values: (fake.metrics[q.Id] ?? []).map(([, v]) => v), StatusCode: 'Complete' })) }));
        return;
      }
      const form = new URLSearchParams(body);
      const action = form.get('Action') ?? '';
      fake.calls.push(action);
      const reply = (status: number, xml: string): void => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(xml);
      };
      if (action === 'GetCallerIdentity') {
        return reply(200, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>${xmlEscape(fake.callerArn)}</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      }
      if (action === 'DescribeStacks') {
        const name = form.get('StackName') ?? '';
        if (fake.deniedStacks.has(name)) return reply(403, queryError('AccessDenied'));
        const outputs = fake.stacks.get(name);
        if (outputs === undefined) return reply(400, queryError('ValidationError'));
        const members = outputs.map((o) => `<member><OutputKey>${xmlEscape(o.OutputKey)}</OutputKey><OutputValue>${xmlEscape(o.OutputValue)}</OutputValue></member>`).join('');
        return reply(
          200,
          `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>${xmlEscape(name)}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
        );
      }
      reply(400, queryError('InvalidAction'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, { endpoint: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) });
}
