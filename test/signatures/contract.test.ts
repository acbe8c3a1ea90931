import { verifyWebhook } from '../../lambda/signatures';
import type { Verification } from '../../lambda/signatures/types';
import { context, flipByte, lowerCased, NOW, SCHEMES, signed, withHeader } from './fixtures';

/** The outcome as one word: the reject reason, or the kind. */
const outcome = (v: Verification): string => (v.kind === 'rejected' ? v.reason : v.kind);

describe.each(SCHEMES)('the $label scheme', (scheme) => {
  const [current, previous] = scheme.secrets;
  const ctx = context(scheme.source, [current, previous]);

  it('accepts a request signed with the current secret', () => {
    // Prepare
    const req = signed(scheme.source, current, scheme.body);
    // Act
    const result = verifyWebhook(req, ctx);
    // Assess
    expect(result).toMatchObject({ kind: 'accepted', dedupeKey: expect.stringMatching(new RegExp(`^${scheme.source.name}:`)) });
  });

  it('accepts a request signed with the previous secret, second in the list (rotation)', () => {
    const req = signed(scheme.source, previous, scheme.body);
    expect(outcome(verifyWebhook(req, ctx))).toBe('accepted');
  });

  it('refuses a request whose body changed by one byte', () => {
    const req = signed(scheme.source, current, scheme.body);
    const tampered = { ...req, body: flipByte(req.body, 7) };
    expect(outcome(verifyWebhook(tampered, ctx))).toBe(scheme.tamperedReason);
  });

  it('refuses a request signed with a secret that is not configured', () => {
    const req = signed(scheme.source, 'whsec_d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==', scheme.body);
    expect(outcome(verifyWebhook(req, ctx))).toBe(scheme.wrongSecretReason);
  });

  it('refuses a request without the signature header', () => {
    const req = withHeader(signed(scheme.source, current, scheme.body), scheme.signatureHeader, undefined);
    expect(outcome(verifyWebhook(req, ctx))).toBe(scheme.missingReason);
  });

  it('refuses a request whose signature header is malformed', () => {
    const req = withHeader(signed(scheme.source, current, scheme.body), scheme.signatureHeader, 'not a signature');
    expect(outcome(verifyWebhook(req, ctx))).toBe(scheme.malformedReason);
  });

  it('reads header names in the original case and in lower case', () => {
    const req = signed(scheme.source, current, scheme.body);
    const lower = { ...req, headers: lowerCased(req.headers) };
    expect(Object.keys(req.headers)).toContain(scheme.signatureHeader);
    expect([outcome(verifyWebhook(req, ctx)), outcome(verifyWebhook(lower, ctx))]).toEqual(['accepted', 'accepted']);
  });

  it('refuses other HTTP methods', () => {
    const req = { ...signed(scheme.source, current, scheme.body), method: 'PUT' };
    expect(outcome(verifyWebhook(req, ctx))).toBe('method_not_allowed');
  });

  if (scheme.timestamped) {
    // The source's window, the schema's default unless the source sets one.
    const tolerance = scheme.source.toleranceSeconds * 1000;

    it('refuses a stale timestamp, just outside the window', () => {
      const req = signed(scheme.source, current, scheme.body, NOW - tolerance - 1000);
      expect(outcome(verifyWebhook(req, ctx))).toBe('timestamp_out_of_window');
    });

    it('refuses a future timestamp, just outside the window', () => {
      const req = signed(scheme.source, current, scheme.body, NOW + tolerance + 1000);
      expect(outcome(verifyWebhook(req, ctx))).toBe('timestamp_out_of_window');
    });

    it('accepts timestamps at both edges of the window', () => {
      const old = signed(scheme.source, current, scheme.body, NOW - tolerance);
      const ahead = signed(scheme.source, current, scheme.body, NOW + tolerance);
      expect([outcome(verifyWebhook(old, ctx)), outcome(verifyWebhook(ahead, ctx))]).toEqual(['accepted', 'accepted']);
    });

    it('uses the source toleranceSeconds instead of the default', () => {
      const narrow = context({ ...scheme.source, toleranceSeconds: 10 }, [current]);
      const req = signed(scheme.source, current, scheme.body, NOW - 11_000);
      expect(outcome(verifyWebhook(req, narrow))).toBe('timestamp_out_of_window');
    });
  }

  if (scheme.timestampHeader !== undefined) {
    const name = scheme.timestampHeader;

    it('refuses a request without the timestamp header', () => {
      const req = withHeader(signed(scheme.source, current, scheme.body), name, undefined);
      expect(outcome(verifyWebhook(req, ctx))).toBe('missing_timestamp');
    });

    it('refuses a timestamp that is not unix seconds', () => {
      const req = withHeader(signed(scheme.source, current, scheme.body), name, '2026-01-01T00:00:00Z');
      expect(outcome(verifyWebhook(req, ctx))).toBe('malformed_timestamp');
    });
  }
});
