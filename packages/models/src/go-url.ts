// URL checks with the outcomes of Go's `net/url` (Go 1.5, the receptor's era): `url.Parse` for a rootfs
// (which must come out with a scheme) and `url.ParseRequestURI` for a task's completion callback. Only
// acceptance and the error text matter here; nothing is built from the parts.

export type GoUrlResult = { ok: true; scheme: string } | { ok: false; error: string };

const SCHEME_FIRST = /[A-Za-z]/;
const SCHEME_REST = /[A-Za-z0-9+.-]/;
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const OPTIONAL_PORT = /^(?::\d*)?$/;

const ok = (scheme: string): GoUrlResult => ({ ok: true, scheme });
const fail = (error: string): GoUrlResult => ({ ok: false, error });

/** Go's `unescape` refuses a `%` not followed by two hex digits, quoting up to three characters from it. */
function escapeError(text: string): string | null {
  const at = text.search(BAD_ESCAPE);
  return at < 0 ? null : `invalid URL escape ${JSON.stringify(text.slice(at, at + 3))}`;
}

/** Go's `getscheme`: letters first, then letters, digits, `+`, `-`, `.` up to a `:`; anything else means none. */
function splitScheme(raw: string): { scheme: string; rest: string } | { error: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charAt(i);
    if (c === ':') return i === 0 ? { error: 'missing protocol scheme' } : { scheme: raw.slice(0, i), rest: raw.slice(i + 1) };
    if (SCHEME_FIRST.test(c)) continue;
    if (i === 0 || !SCHEME_REST.test(c)) break;
  }
  return { scheme: '', rest: raw };
}

/** Go's `parseAuthority`/`parseHost`: a bracketed IPv6 host needs its `]` and only a port after it. */
function authorityError(authority: string): string | null {
  const at = authority.lastIndexOf('@');
  const host = authority.slice(at + 1);
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) return "missing ']' in host";
    const colonPort = host.slice(close + 1);
    if (!OPTIONAL_PORT.test(colonPort)) return `invalid port ${JSON.stringify(colonPort)} after host`;
  }
  return escapeError(host) ?? (at >= 0 ? escapeError(authority.slice(0, at)) : null);
}

/**
 * What Go's `url.Parse(raw)` (or `url.ParseRequestURI(raw)` when `viaRequest`) makes of `raw`: its scheme
 * (`""` when it has none) or the reason it is rejected.
 *
 * @example parseGoUrl('docker:///busybox', false) // { ok: true, scheme: 'docker' }
 * @example parseGoUrl('ಠ_ಠ', true)                // { ok: false, error: 'invalid URI for request' }
 */
export function parseGoUrl(raw: string, viaRequest: boolean): GoUrlResult {
  if (CONTROL_CHARACTER.test(raw)) return fail('net/url: invalid control character in URL');
  let text = raw;
  if (!viaRequest) {
    const hash = text.indexOf('#');
    if (hash >= 0) {
      const fragmentError = escapeError(text.slice(hash + 1));
      if (fragmentError !== null) return fail(fragmentError);
      text = text.slice(0, hash);
    }
  }
  if (text === '' && viaRequest) return fail('empty url');
  if (text === '*') return ok('');

  const split = splitScheme(text);
  if ('error' in split) return fail(split.error);
  const { scheme } = split;
  const query = split.rest.indexOf('?');
  let rest = query < 0 ? split.rest : split.rest.slice(0, query);

  if (!rest.startsWith('/')) {
    // A rootless path after a scheme is opaque (`preloaded:cflinuxfs2`); a request URI must be absolute.
    if (scheme !== '') return ok(scheme);
    if (viaRequest) return fail('invalid URI for request');
  }
  if ((scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const error = authorityError(authority);
    if (error !== null) return fail(error);
  }
  const pathError = escapeError(rest);
  return pathError === null ? ok(scheme) : fail(pathError);
}
