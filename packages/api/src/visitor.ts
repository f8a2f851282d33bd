/**
 * Anonymous visitors: a random id in an httpOnly cookie, signed with HMAC-SHA256 (Web Crypto).
 * A missing, forged or tampered cookie gets a fresh identity — never someone else's.
 */
export const VISITOR_COOKIE = 'gs_visitor';
const ONE_YEAR = 60 * 60 * 24 * 365;

const encoder = new TextEncoder();

/**
 * Per secret: the imported HMAC key, and the cookie values that verified under it. A value that
 * verified once always will, and an async Web Crypto verify per request was ~5% of a vote's CPU
 * through `next start` (issue 9). Only valid values enter, so a forged cookie still pays for its
 * check and never matches; the oldest entries go first beyond VERIFIED_MAX (~100 B each).
 */
interface Signer {
  key: Promise<CryptoKey>;
  verified: Map<string, string>;
}
const signers = new Map<string, Signer>();
const VERIFIED_MAX = 50_000;

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

const toB64url = (bytes: ArrayBuffer) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function fromB64url(s: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export async function signVisitor(id: string, secret: string): Promise<string> {
  return `${id}.${toB64url(await crypto.subtle.sign('HMAC', await signer(secret).key, encoder.encode(id)))}`;
}

/** The visitor id if the cookie value carries a valid signature. */
export async function verifyVisitor(value: string, secret: string): Promise<string | undefined> {
  const { key, verified } = signer(secret);
  const known = verified.get(value);
  if (known) return known;
  const dot = value.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const id = value.slice(0, dot);
  const sig = fromB64url(value.slice(dot + 1));
  if (!sig || !/^[A-Za-z0-9-]{8,64}$/.test(id)) return undefined;
  if (!(await crypto.subtle.verify('HMAC', await key, sig, encoder.encode(id)))) return undefined;
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(value, id);
  return id;
}

export function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name)
      return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export interface Visitor {
  id: string;
  /** Set-Cookie value when a new identity was issued. */
  setCookie?: string;
}

export async function visitorFor(request: Request, secret: string): Promise<Visitor> {
  const existing = readCookie(request, VISITOR_COOKIE);
  const id = existing ? await verifyVisitor(existing, secret) : undefined;
  if (id) return { id };
  const fresh = crypto.randomUUID();
  const secure = new URL(request.url).protocol === 'https:' ? '; Secure' : '';
  return {
    id: fresh,
    setCookie: `${VISITOR_COOKIE}=${await signVisitor(fresh, secret)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${ONE_YEAR}${secure}`,
  };
}

/** Read-only lookup (no new cookie) for pages that show a visitor's own votes. */
export async function existingVisitor(
  cookieValue: string | undefined,
  secret: string,
): Promise<string | undefined> {
  return cookieValue ? verifyVisitor(cookieValue, secret) : undefined;
}
