import type { HmacOptions } from '../../config/types';
import { compileTemplate, checkHeaderHmac, type HeaderHmacScheme, signHeaderHmac } from '../header-hmac';
import { header } from '../header-values';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';

// Sources are long-lived config objects: compile each one's scheme once.
const schemes = new WeakMap<HmacOptions, HeaderHmacScheme>();

/** The scheme described by a source's `hmac` options, with their documented defaults. */
function schemeOf(options: HmacOptions): HeaderHmacScheme {
  let scheme = schemes.get(options);
  if (scheme === undefined) {
    const defaultTemplate = options.timestampHeader === undefined ? '{body}' : '{timestamp}.{body}';
    scheme = {
      header: options.header,
      algorithm: options.algorithm ?? 'sha256',
      encoding: options.encoding ?? 'hex',
      prefix: options.prefix ?? '',
      template: compileTemplate(options.template ?? defaultTemplate),
      ...(options.timestampHeader === undefined ? {} : { timestampHeader: options.timestampHeader }),
    };
    schemes.set(options, scheme);
  }
  return scheme;
}

/** Any sender with a configurable header, algorithm, encoding, prefix, timestamp and template. */
export const hmac: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: (source) => (source.hmac === undefined ? [] : [source.hmac.header]),
  verify(request, context) {
    const options = context.source.hmac;
    // Config validation requires the options; without them nothing can verify.
    if (options === undefined) return rejected('bad_signature');
    const scheme = schemeOf(options);
    const problem = checkHeaderHmac(scheme, request, context);
    if (problem !== undefined) return rejected(problem);
    // The id header is never signed; a signed timestamp at least bounds its replay to the window.
    const id = options.idHeader === undefined ? undefined : header(request.headers, options.idHeader);
    const signedTimestamp = scheme.timestampHeader !== undefined && scheme.template.includes('timestamp');
    return acceptedEvent(context, request.body, { id, signedTimestamp });
  },
  sign(source, secret, body, { now, url, eventId }) {
    if (source.hmac === undefined) throw new Error(`source ${source.name} has no hmac options`);
    const headers = signHeaderHmac(schemeOf(source.hmac), secret, body, now);
    if (eventId !== undefined && source.hmac.idHeader !== undefined) headers[source.hmac.idHeader] = eventId;
    return { url, headers };
  },
};
