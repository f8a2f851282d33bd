'use client';
/**
 * The browser side of the API's identity rules: a page view asks GET /api/visitor for
 * an identity, which counts a few seconds after it is issued (`countsFrom`). A vote or publish
 * made before then waits until it counts (and is retried if the API still says it is too new), so
 * a person who clicks at once sees their vote land a moment later instead of an error.
 */

interface ApiError {
  error?: { code: string; message: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Visitor {
  visitor?: 'new' | 'known';
  /** When the identity starts to count (ISO instant): a vote or publish sent earlier is refused. */
  countsFrom?: string;
}

let identity: Promise<Visitor | undefined> | undefined;

/** Asks for an identity once per page load; the API keeps an existing one. */
export function ensureVisitor(): Promise<Visitor | undefined> {
  // The body is read: an unread response holds its request open in the browser (never idle).
  identity ??= fetch('/api/visitor', { credentials: 'same-origin' })
    .then((res) => res.json() as Promise<Visitor>)
    .catch(() => undefined);
  return identity;
}

/** POSTs JSON; waits out a new identity's age (at most twice), then returns the response and its body. */
export async function postJson<T>(
  url: string,
  body: unknown,
): Promise<{ res: Response; data: T & ApiError }> {
  // A new identity is waited out here rather than refused (a 403 the console would show).
  const counts = Date.parse((await ensureVisitor())?.countsFrom ?? '') - Date.now();
  if (counts > 0) await sleep(Math.min(counts, 10_000) + 100);
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const data = (await res.json().catch(() => ({}))) as T & ApiError;
    const code = data.error?.code;
    if (attempt >= 2 || res.ok) return { res, data };
    if (code === 'no_identity') {
      identity = undefined;
      await ensureVisitor();
      continue;
    }
    if (code !== 'identity_too_new') return { res, data };
    await sleep(Math.min(10, Number(res.headers.get('retry-after') ?? '1')) * 1000 + 100);
  }
}
