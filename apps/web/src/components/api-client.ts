'use client';
/**
 * The browser side of the API's identity rules: a page view asks GET /api/visitor for
 * an identity, which counts a few seconds after it is issued. A vote or publish sent before then
 * (or before the page's request returned) is retried once the API says it will count, so a person
 * who clicks at once sees their vote land a moment later instead of an error.
 */

interface ApiError {
  error?: { code: string; message: string };
}

let identity: Promise<unknown> | undefined;

/** Asks for an identity once per page load; the API keeps an existing one. */
export function ensureVisitor(): Promise<unknown> {
  identity ??= fetch('/api/visitor', { credentials: 'same-origin' }).catch(() => undefined);
  return identity;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POSTs JSON; waits out a new identity's age (at most twice), then returns the response and its body. */
export async function postJson<T>(
  url: string,
  body: unknown,
): Promise<{ res: Response; data: T & ApiError }> {
  await ensureVisitor();
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
