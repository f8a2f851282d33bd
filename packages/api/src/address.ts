/**
 * Where a request comes from, for budgets and for who counts as one contributor. Web-standard
 * only: the platform entry (apps/web/server.mjs, apps/edge/main.ts) hands in the connection's own
 * address, because a handler cannot see the socket and every header is the client's to write.
 *
 * - `{hops: 0}` (the default): the connection's address; X-Forwarded-For and X-Real-IP are
 *   ignored. Right for a directly exposed server (`npm start`).
 * - `{hops: N}`: N proxies of your own in front, each appending the address it saw to
 *   X-Forwarded-For; the client is the Nth entry from the right of that list with the connection
 *   appended (the left end is whatever the client sent, so it is never read).
 * - `'vercel'`: Vercel's edge writes X-Forwarded-For (and X-Vercel-Forwarded-For) itself with the
 *   client's address, replacing anything the client sent.
 */
export type ProxyTrust = { hops: number } | 'vercel';

export const MAX_PROXY_HOPS = 10;

/** TRUSTED_PROXY_HOPS as written: unset → 0 (or `vercel` on Vercel, which sets VERCEL=1). */
export function parseProxyTrust(value: string | undefined, onVercel = false): ProxyTrust {
  const v = value?.trim().toLowerCase();
  if (!v) return onVercel ? 'vercel' : { hops: 0 };
  if (v === 'vercel') return 'vercel';
  if (/^\d{1,2}$/.test(v) && Number(v) <= MAX_PROXY_HOPS) return { hops: Number(v) };
  throw new RangeError(
    `TRUSTED_PROXY_HOPS must be 0–${MAX_PROXY_HOPS} (proxies of yours in front) or vercel, got ${value}`,
  );
}

/** What budgets key on when the connection's address is unknown: everyone shares one bucket. */
export const UNKNOWN_ADDRESS = 'unknown';

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): string | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  return octets.every((o) => o <= 255) ? octets.join('.') : undefined;
}

/** Eight 16-bit groups, or undefined. Accepts `::` compression and an embedded IPv4 tail. */
function parseV6(s: string): number[] | undefined {
  let text = s.replace(/%[^%]*$/, ''); // a zone id (fe80::1%eth0) names an interface, not a host
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // ::ffff:1.2.3.4 is ::ffff:102:304: the IPv4 tail is the last two groups.
    const v4 = parseV4(tail)?.split('.').map(Number);
    if (!v4) return undefined;
    const [a, b, c, d] = v4 as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const left = groupsOf(halves[0] ?? '');
  const right = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  const hex =
    halves.length === 1
      ? left
      : [
          ...left,
          ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ];
  if (hex.length !== 8 || (halves.length === 2 && left.length + right.length > 7)) return undefined;
  if (!hex.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return hex.map((g) => parseInt(g, 16));
}

/**
 * One spelling per address: `a.b.c.d`, or eight lower-case hex groups for IPv6. Accepts the forms
 * headers and sockets use: bare, `v4:port`, `[v6]` and `[v6]:port`, a zone id, IPv4-mapped IPv6
 * (as its IPv4). Anything else is undefined, never a key of its own: a made-up string must not
 * open a fresh budget.
 */
export function parseAddress(raw: string | null | undefined): string | undefined {
  let s = (raw ?? '').trim().toLowerCase().replace(/^"|"$/g, '');
  if (!s || s.length > 64) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed?.[1]) s = bracketed[1];
  else if (/^[\d.]+:\d{1,5}$/.test(s)) s = s.slice(0, s.indexOf(':'));
  const v4 = parseV4(s);
  if (v4) return v4;
  if (!s.includes(':')) return undefined;
  const groups = parseV6(s);
  if (!groups) return undefined;
  // ::ffff:a.b.c.d is an IPv4 client on a dual-stack socket; 64:ff9b::a.b.c.d an IPv4 client
  // through NAT64 (RFC 6052's well-known prefix), which would otherwise be one /64 for them all.
  const [g0, g1, , , , g5, g6 = 0, g7 = 0] = groups;
  const tail = [g6 >> 8, g6 & 255, g7 >> 8, g7 & 255].join('.');
  if (groups.slice(0, 5).every((g) => g === 0) && g5 === 0xffff) return tail;
  if (g0 === 0x64 && g1 === 0xff9b && groups.slice(2, 6).every((g) => g === 0)) return tail;
  return groups.map((g) => g.toString(16)).join(':');
}

/** The client's canonical address under `trust`, or UNKNOWN_ADDRESS. */
export function clientAddress(
  request: Request,
  peer: string | undefined,
  trust: ProxyTrust = { hops: 0 },
): string {
  const list = (name: string) =>
    (request.headers.get(name) ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
  let chosen: string | undefined;
  if (trust === 'vercel')
    chosen = list('x-vercel-forwarded-for')[0] ?? list('x-forwarded-for')[0] ?? peer;
  else if (trust.hops === 0) chosen = peer;
  else if (peer) {
    // Without the connection's own address at its end, the list's Nth entry from the right is one
    // hop too far left (the client's own), and a list shorter than the trust needs ends in entries
    // the client wrote: both are no address at all, never the leftmost entry.
    const chain = [...list('x-forwarded-for'), peer];
    chosen = chain[chain.length - 1 - trust.hops];
  }
  return parseAddress(chosen) ?? UNKNOWN_ADDRESS;
}

const isV6 = (address: string) => address.includes(':');
const prefix = (address: string, groups: number, bits: number) =>
  `${address.split(':').slice(0, groups).join(':')}::/${bits}`;

/**
 * The contributor and the network of a canonical address (what clientAddress returns), with no
 * second parse: an IPv4 address is both; an IPv6 address is its /64 and its /48 (see below).
 */
export function addressKeys(address: string): { address: string; network: string } {
  return isV6(address)
    ? { address: prefix(address, 4, 64), network: prefix(address, 3, 48) }
    : { address, network: address };
}

/**
 * The contributor an address belongs to: an IPv4 address as is; an IPv6 address by its /64 (one
 * subscriber usually holds a whole /64, so counting full IPv6 addresses would be free to evade).
 */
export const addressKey = (raw: string): string =>
  addressKeys(parseAddress(raw) ?? UNKNOWN_ADDRESS).address;

/**
 * The network above it: an IPv6 /48 (what one site or subscriber is commonly given: 65,536 /64s),
 * which has budgets of its own so its /64s together cannot spend more than a few contributors'
 * share. IPv4 addresses are their own network.
 */
export const networkKey = (raw: string): string =>
  addressKeys(parseAddress(raw) ?? UNKNOWN_ADDRESS).network;
