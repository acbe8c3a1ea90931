import crypto from 'node:crypto';
import { decodeSignature, hmacEquals } from '../../lambda/signatures/hmac-digest';
import { timestampProblem } from '../../lambda/signatures/window';
import { NOW, NOW_SECONDS, testSource } from './fixtures';

const digest = (secret: string, data: string) => crypto.createHmac('sha256', secret).update(data).digest();

describe('decodeSignature', () => {
  const good = digest('k', 'body').toString('hex');

  it.each([
    ['a trailing non-hex character (Buffer.from would silently drop it)', `${good.slice(0, 63)}g`],
    ['one hex digit short', good.slice(0, 63)],
    ['one hex digit long', `${good}0`],
    ['a digest of another algorithm (sha1)', crypto.createHash('sha1').update('x').digest('hex')],
    ['surrounding spaces', ` ${good.slice(1)}`],
  ])('refuses hex with %s', (_name, text) => {
    expect(decodeSignature(text, 'sha256', 'hex')).toBeUndefined();
  });

  it('decodes hex in either case to the same bytes', () => {
    expect(decodeSignature(good.toUpperCase(), 'sha256', 'hex')).toEqual(Buffer.from(good, 'hex'));
  });

  it.each([
    ['base64url characters', digest('k', 'body').toString('base64url').padEnd(44, '=')],
    ['no padding', digest('k', 'body').toString('base64').replace(/=+$/, '')],
    ['a character outside the alphabet', `*${digest('k', 'body').toString('base64').slice(1)}`],
  ])('refuses base64 with %s', (_name, text) => {
    expect(decodeSignature(text, 'sha256', 'base64')).toBeUndefined();
  });
});

describe('hmacEquals', () => {
  afterEach(() => jest.restoreAllMocks());

  it('computes the HMAC under every secret even when the first one matches (no early exit)', () => {
    // Prepare
    const presented = digest('first', 'body').toString('hex');
    const spy = jest.spyOn(crypto, 'createHmac');
    // Act
    const result = hmacEquals('sha256', ['first', 'second', 'third'], [Buffer.from('body')], [presented], 'hex');
    // Assess
    expect(result).toBeUndefined();
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('accepts when a later signature matches a later secret', () => {
    const presented = ['00'.repeat(32), 'zz', digest('second', 'body').toString('hex')];
    expect(hmacEquals('sha256', ['first', 'second'], [Buffer.from('body')], presented, 'hex')).toBeUndefined();
  });

  it('hashes content given in parts as their concatenation', () => {
    const presented = digest('k', 'a.b').toString('hex');
    expect(hmacEquals('sha256', ['k'], [Buffer.from('a'), Buffer.from('.'), Buffer.from('b')], [presented], 'hex')).toBeUndefined();
  });

  it('calls a list with no well-formed signature malformed, and one with a wrong signature bad', () => {
    expect(hmacEquals('sha256', ['k'], [Buffer.from('x')], ['nope', ''], 'hex')).toBe('malformed_signature');
    expect(hmacEquals('sha256', ['k'], [Buffer.from('x')], ['00'.repeat(32)], 'hex')).toBe('bad_signature');
  });

  it('refuses everything when no secret is configured', () => {
    expect(hmacEquals('sha256', [], [Buffer.from('x')], [digest('k', 'x').toString('hex')], 'hex')).toBe('bad_signature');
  });
});

describe('timestampProblem', () => {
  const source = testSource({ name: 's', provider: 'slack' });

  it.each([
    ['missing', undefined, 'missing_timestamp'],
    ['empty', '', 'missing_timestamp'],
    ['in milliseconds (13 digits)', String(NOW), 'malformed_timestamp'],
    ['fractional', `${NOW_SECONDS}.5`, 'malformed_timestamp'],
    ['negative', `-${NOW_SECONDS}`, 'malformed_timestamp'],
    ['hexadecimal', '0x6955b900', 'malformed_timestamp'],
    ['301 s old', String(NOW_SECONDS - 301), 'timestamp_out_of_window'],
    ['301 s ahead', String(NOW_SECONDS + 301), 'timestamp_out_of_window'],
    ['300 s old', String(NOW_SECONDS - 300), undefined],
    ['300 s ahead', String(NOW_SECONDS + 300), undefined],
  ])('judges a timestamp %s', (_name, text, expected) => {
    expect(timestampProblem(text, NOW, source)).toBe(expected);
  });
});
