/**
 * Basic auth and the `receptor_authorization` cookie (spec/receptor-api.md §10.2, §10.3), as goji/httpauth and
 * the receptor's cookie wrapper did it. Credentials are compared in constant time and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { unauthorized } from './errors';
import type { Authorize } from './router';

export const AUTH_COOKIE_NAME = 'receptor_authorization';

const BASIC_SCHEME = 'Basic ';
/** Go's base64.StdEncoding: padded, nothing but the alphabet (Buffer.from would accept anything). */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const COLON = 0x3a;

/** Digests have one length whatever was sent, so the comparison takes the same time for any input. */
function sameBytes(given: Buffer, expected: Buffer): boolean {
  const digest = (bytes: Buffer): Buffer => createHash('sha256').update(bytes).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether an Authorization value (`Basic base64(user:pass)`) carries exactly these credentials. */
function carriesCredentials(authorization: string, username: Buffer, password: Buffer): boolean {
  if (!authorization.startsWith(BASIC_SCHEME)) return false;
  const encoded = authorization.slice(BASIC_SCHEME.length);
  if (!STD_BASE64.test(encoded)) return false;
  const decoded = Buffer.from(encoded, 'base64');
  const colon = decoded.indexOf(COLON);
  if (colon === -1) return false;
  // Both halves are always compared: how far a guess got must not show in the time taken.
  const userMatches = sameBytes(decoded.subarray(0, colon), username);
  const passwordMatches = sameBytes(decoded.subarray(colon + 1), password);
  return userMatches && passwordMatches;
}

/** Go's validCookieValueByte. */
function isCookieValueByte(code: number): boolean {
  return code >= 0x20 && code < 0x7f && code !== 0x22 && code !== 0x3b && code !== 0x5c;
}

/** The value of the first cookie named `name` in the Cookie header(s), unquoted (Go's Request.Cookie). */
export function cookieValue(req: Request, name: string): string | undefined {
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if ([...value].every((ch) => isCookieValueByte(ch.charCodeAt(0)))) return value;
  }
  return undefined;
}

/**
 * A cookie value as Go's http.SetCookie writes it: bytes a cookie cannot hold are dropped (no attribute can be
 * smuggled in), and a value with a space or comma is quoted.
 */
export function cookieValueForSetCookie(value: string): string {
  const sanitized = [...value].filter((ch) => isCookieValueByte(ch.charCodeAt(0))).join('');
  return /[ ,]/.test(sanitized) ? `"${sanitized}"` : sanitized;
}

/**
 * A page's script says so as scripts conventionally do (the dashboard's fetches); no 2015 client sends the header.
 * Its 401 comes without the challenge, so that the page's own sign-in is what the user sees.
 */
export function fromPageScript(req: Request): boolean {
  return req.headers['x-requested-with'] === 'XMLHttpRequest';
}

export interface BasicAuthCredentials {
  username: string;
  password: string;
}

/**
 * The check made once a route matched. Auth is on when `username` is non-empty; then the request's
 * `receptor_authorization` cookie, when present, stands for its Authorization header (for browsers' EventSource).
 */
export function basicAuth(credentials: BasicAuthCredentials): Authorize {
  if (credentials.username === '') return (req) => req.headers.authorization;
  const accepts = acceptsAuthorization(credentials);
  return (req) => {
    const authorization = cookieValue(req, AUTH_COOKIE_NAME) ?? req.headers.authorization;
    if (authorization === undefined || !accepts(authorization)) throw unauthorized(!fromPageScript(req));
    return authorization;
  };
}

/** Whether an Authorization value carries these credentials (compared in constant time). */
export function acceptsAuthorization({ username, password }: BasicAuthCredentials): (authorization: string) => boolean {
  const expectedUser = Buffer.from(username, 'utf8');
  const expectedPassword = Buffer.from(password, 'utf8');
  return (authorization) => carriesCredentials(authorization, expectedUser, expectedPassword);
}
