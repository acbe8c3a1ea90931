import type { HmacOptions } from '../../config/schema';
import { compileTemplate, checkHeaderHmac, type HeaderHmacScheme, signHeaderHmac } from '../header-hmac';
import { header } from '../header-values';
import { acceptedEvent, rejected } from '../verification';
import type { ProviderStrategy } from '../provider';

// Sources are long-lived config objects: compile each one's scheme once.
const schemes = new WeakMap<HmacOptions, HeaderHmacScheme>();

/** The scheme described by a source's `hmac` options (defaults applied by the config schema). */
function schemeOf(options: HmacOptions): HeaderHmacScheme {
  let scheme = schemes.get(options);
  if (scheme === undefined) {
    scheme = {
      header: options.header,
      algorithm: options.algorithm,
      encoding: options.encoding,
      prefix: options.prefix,
      template: compileTemplate(options.template),
      ...(options.timestampHeader === undefined ? {} : { timestampHeader: options.timestampHeader }),
    };
    schemes.set(options, scheme);
  }
  return scheme;
}

/** Any sender with a configurable header, algorithm, encoding, prefix, timestamp and template. */
export const hmac: ProviderStrategy = {
  methods: ['POST'],
  signatureHeaders: (source) => (source?.provider === 'hmac' ? [source.hmac.header] : []),
  verify(request, context) {
    // The registry routes only hmac sources here; the schema gives each one its options.
    if (context.source.provider !== 'hmac') return rejected('bad_signature');
    const options = context.source.hmac;
    const scheme = schemeOf(options);
    const problem = checkHeaderHmac(scheme, request, context);
    if (problem !== undefined) return rejected(problem);
    // The id header is never signed; a signed timestamp at least bounds its replay to the window.
    const id = options.idHeader === undefined ? undefined : header(request.headers, options.idHeader);
    const signedTimestamp = scheme.timestampHeader !== undefined && scheme.template.includes('timestamp');
    return acceptedEvent(context, request.body, { id, signedTimestamp });
  },
  sign(source, secret, body, { now, url, eventId }) {
    if (source.provider !== 'hmac') throw new Error(`source ${source.name} is not an hmac source`);
    const headers = signHeaderHmac(schemeOf(source.hmac), secret, body, now);
    if (eventId !== undefined && source.hmac.idHeader !== undefined) headers[source.hmac.idHeader] = eventId;
    return { url, headers };
  },
};
