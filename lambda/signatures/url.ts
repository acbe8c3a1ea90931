/** The query string of a URL as received, without `?` (and without any fragment); '' when none. */
export function rawQuery(url: string): string {
  const start = url.indexOf('?');
  if (start === -1) return '';
  const end = url.indexOf('#', start);
  return url.slice(start + 1, end === -1 ? undefined : end);
}

/** Query parameters of a URL. Never throws, unlike `new URL()` on a malformed URL. */
export function queryParams(url: string): URLSearchParams {
  return new URLSearchParams(rawQuery(url));
}

/** `url` with one more query parameter. */
export function withQueryParam(url: string, name: string, value: string): string {
  const pair = `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  return url + (url.includes('?') ? '&' : '?') + pair;
}
