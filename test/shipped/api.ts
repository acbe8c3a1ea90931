import type { APIGatewayProxyEvent } from 'aws-lambda';
import { toProxyEvent } from '../../local/apigateway';
import { asString, isObject, type Json, ofType, referencedId, type Synthesized } from './template';

/**
 * The REST API as the template declares it: its stage, and which function each method of each
 * resource path invokes. Events are built by local mode's builder and then given what the
 * deployed API sends instead (its stage, one literal resource per source, no path parameters).
 */

export interface ApiRoute {
  readonly method: string;
  /** The resource path, for example `/webhooks/stripe`. */
  readonly path: string;
  readonly functionLogicalId: string;
}

/** Every logical id referenced anywhere inside a value. */
function referencedIds(value: Json | undefined, out: Set<string> = new Set()): Set<string> {
  const id = referencedId(value);
  if (id !== undefined) out.add(id);
  if (Array.isArray(value)) for (const v of value) referencedIds(v, out);
  else if (isObject(value)) for (const v of Object.values(value)) referencedIds(v, out);
  return out;
}

function resourcePath(synth: Synthesized, id: string | undefined): string {
  const resource = id === undefined ? undefined : synth.resources[id];
  if (resource === undefined || resource.Type !== 'AWS::ApiGateway::Resource') return '';
  const part = asString(resource.Properties.PathPart, `${id}.PathPart`);
  return `${resourcePath(synth, referencedId(resource.Properties.ParentId))}/${part}`;
}

/** The methods of the API that invoke a Lambda function (AWS_PROXY integrations). */
export function apiRoutes(synth: Synthesized): ApiRoute[] {
  const functions = new Set(ofType(synth, 'AWS::Lambda::Function'));
  return ofType(synth, 'AWS::ApiGateway::Method').flatMap((id) => {
    const p = synth.resources[id]?.Properties ?? {};
    const integration = p.Integration;
    if (!isObject(integration) || integration.Type !== 'AWS_PROXY') return [];
    const target = [...referencedIds(integration.Uri)].find((ref) => functions.has(ref));
    if (target === undefined) return [];
    return [{ method: asString(p.HttpMethod, `${id}.HttpMethod`), path: resourcePath(synth, referencedId(p.ResourceId)), functionLogicalId: target }];
  });
}

/** The name of the API's one stage. */
export function stageName(synth: Synthesized): string {
  const stages = ofType(synth, 'AWS::ApiGateway::Stage');
  if (stages.length !== 1) throw new Error(`expected one API stage, found ${stages.length}`);
  return asString(synth.resources[stages[0] as string]?.Properties.StageName, 'StageName');
}

/** What a provider sends. */
export interface ProviderRequest {
  readonly method: string;
  /** Path (the route's resource path) and query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export const API_HOST = 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com';

/**
 * The REST proxy event the deployed stage hands the function for `request` on `route`: HTTPS on
 * the execute-api host, the body base64 (binaryMediaTypes `*\/*`), the literal resource path.
 */
export function restEvent(route: ApiRoute, stage: string, request: ProviderRequest, now: number = Date.now()): APIGatewayProxyEvent {
  const rawHeaders = Object.entries({ Host: API_HOST, 'User-Agent': 'provider/1.0', ...request.headers }).flat();
  const event = toProxyEvent(
    { method: request.method, url: request.url, rawHeaders, body: request.body, sourceIp: '192.0.2.44', serverPort: 443 },
    route.path.split('/').pop() ?? '',
    { stage, proto: 'https', now },
  );
  return {
    ...event,
    resource: route.path,
    pathParameters: null,
    requestContext: { ...event.requestContext, resourcePath: route.path, apiId: API_HOST.split('.')[0] ?? '', domainPrefix: API_HOST.split('.')[0] ?? '' },
  };
}
