/**
 * Anonymous visitors: a random id and the second it was issued, in an httpOnly cookie signed with
 * HMAC-SHA256 (Web Crypto). A missing, forged or tampered cookie is no identity — never someone
 * else's. Identities are issued only by `GET /api/visitor` (a page view) and must age before they
 * count, so the issue time is part of what is signed.
 *
 * Only the canonical form is accepted: `<id>.<issued, base36 seconds>.<43-char base64url HMAC>`,
 * at most MAX_COOKIE_LENGTH characters, nothing percent-decoded, and a signature that re-encodes to
 * itself. `atob` alone accepts whitespace, spare padding and unused low bits, so one valid cookie
 * had ~50,000 spellings that each verified and each took a cache entry (abuse 2).
 */
export const VISITOR_COOKIE = 'gs_visitor';
/** The name over https: the browser only accepts it Secure, host-only and with Path=/. */
export const SECURE_VISITOR_COOKIE = '__Host-gs_visitor';
const ONE_YEAR = 60 * 60 * 24 * 365;
export const MAX_COOKIE_LENGTH = 128;

/** id 8–64 of [A-Za-z0-9-]; issued-at up to 10 base36 digits; legacy cookies (before 2026-11-29) lack it. */
const CANONICAL = /^([A-Za-z0-9-]{8,64})(?:\.([0-9a-z]{1,10}))?\.([A-Za-z0-9_-]{43})$/;

const encoder = new TextEncoder();

/**
 * Per secret: the imported HMAC key, and the canonical cookie values that verified under it. A
 * value that verified once always will, and an async Web Crypto verify per request was ~5% of a
 * vote's CPU through `next start`. Only valid canonical values enter, so a forged cookie
 * still pays for its check and never matches; the oldest entries go first beyond VERIFIED_MAX.
 */
interface Signer {
  // The Web Crypto key, typed from the global both DOM and Node declare.
  key: ReturnType<typeof crypto.subtle.importKey>;
  verified: Map<string, VisitorId>;
}
const signers = new Map<string, Signer>();
export const VERIFIED_MAX = 50_000;

function signer(secret: string): Signer {
  let s = signers.get(secret);
  if (!s) {
    s = {
      key: crypto.subtle.importKey(
        'raw',
        encoder.encode(secret),
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign', 'verify'],
      ),
      verified: new Map(),
    };
    signers.set(secret, s);
  }
  return s;
}

/** HMAC-SHA256 of `text` under `secret`, with the key imported once per secret (cookies and address tags share it). */
export async function hmac(secret: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(
    await crypto.subtle.sign('HMAC', await signer(secret).key, encoder.encode(text)),
  );
}

/** How many verified values are cached under a secret (tests: variants must not add entries). */
export const verifiedCacheSize = (secret: string) => signers.get(secret)?.verified.size ?? 0;

export const toB64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** Strict base64url: only strings that re-encode to themselves. */
function fromB64url(s: string): Uint8Array<ArrayBuffer> | undefined {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
  return toB64url(bytes) === s ? bytes : undefined;
}

export interface VisitorId {
  id: string;
  /** Unix seconds when the identity was issued; 0 for legacy cookies, issued before the issue time was signed. */
  issuedAt: number;
}

export async function signVisitor(id: string, issuedAt: number, secret: string): Promise<string> {
  const payload = `${id}.${Math.floor(issuedAt).toString(36)}`;
  return `${payload}.${toB64url(await hmac(secret, payload))}`;
}

/** The visitor if the cookie value is canonical and carries a valid signature. */
export async function verifyVisitor(value: string, secret: string): Promise<VisitorId | undefined> {
  if (value.length > MAX_COOKIE_LENGTH) return undefined;
  const { key, verified } = signer(secret);
  const known = verified.get(value);
  if (known) return known;
  const m = CANONICAL.exec(value);
  if (!m) return undefined;
  const [, id = '', issued, sigText = ''] = m;
  const sig = fromB64url(sigText);
  if (!sig) return undefined;
  const payload = issued === undefined ? id : `${id}.${issued}`;
  if (!(await crypto.subtle.verify('HMAC', await key, sig, encoder.encode(payload))))
    return undefined;
  const visitor = { id, issuedAt: issued === undefined ? 0 : parseInt(issued, 36) };
  const oldest = verified.keys().next();
  if (verified.size >= VERIFIED_MAX && !oldest.done) verified.delete(oldest.value);
  verified.set(value, visitor);
  return visitor;
}

/** A cookie's raw value, as sent: never percent-decoded (canonical values need no escaping). */
export function readCookie(request: Request, name: string): string | undefined {
  return cookieValue(request.headers.get('cookie'), name);
}

export function cookieValue(header: string | null, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether cookies must be Secure (and so can carry the `__Host-` name): the request came over
 * https (its URL, or X-Forwarded-Proto from the proxy in front), or `production` is set and the
 * host is not this machine (plain-http localhost still works for `npm start`).
 */
export function secureContext(request: Request, production = false): boolean {
  const url = new URL(request.url);
  const proto = (request.headers.get('x-forwarded-proto') ?? '').split(',').pop()?.trim();
  if (url.protocol === 'https:' || proto === 'https') return true;
  return production && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname);
}

export const visitorCookieName = (secure: boolean) =>
  secure ? SECURE_VISITOR_COOKIE : VISITOR_COOKIE;

/** The visitor a request's cookie names, if any (never issues one). */
export async function visitorOfRequest(
  request: Request,
  secret: string,
  secure: boolean,
): Promise<VisitorId | undefined> {
  return visitorOfCookie(readCookie(request, visitorCookieName(secure)), secret);
}

/** A new identity and its Set-Cookie header value. */
export async function issueVisitor(
  secret: string,
  secure: boolean,
  now = Date.now(),
): Promise<VisitorId & { setCookie: string }> {
  const id = crypto.randomUUID();
  const issuedAt = Math.floor(now / 1000);
  const flags = `Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR}${secure ? '; Secure' : ''}`;
  return {
    id,
    issuedAt,
    setCookie: `${visitorCookieName(secure)}=${await signVisitor(id, issuedAt, secret)}; ${flags}`,
  };
}

/** Read-only lookup for pages that show a visitor's own votes. */
export async function visitorOfCookie(
  cookieValue: string | undefined,
  secret: string,
): Promise<VisitorId | undefined> {
  return cookieValue ? verifyVisitor(cookieValue, secret) : undefined;
}
