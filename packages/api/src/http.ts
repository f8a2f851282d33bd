/**
 * HTTP for the gallery's handlers, web-standard only: JSON responses with the same safety headers,
 * `{error: {code, message}}` problems, bodies read with a size bound and checked with zod, ids.
 */
import { z } from 'zod';

import { ID_PATTERN } from '@ganstudio/db/schema';
import { concatBytes } from '@ganstudio/models/image';

/** JSON bodies here are tiny ({modelId, seed}); anything larger is refused before parsing. */
export const MAX_BODY_BYTES = 4096;

/** An id in a path or body: 1–64 letters, digits, - or _ (never anything a query could misread). */
export const Id = z.string().regex(ID_PATTERN, 'must be 1–64 letters, digits, - or _');

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
  });
}

export function problem(err: HttpError): Response {
  return json({ error: { code: err.code, message: err.message } }, err.status, err.headers);
}

export async function readJson<T>(request: Request, schema: z.ZodType<T>): Promise<T> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith('application/json'))
    throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes`);
  // Count what actually arrives too: Content-Length can be absent or lie.
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    // A client that disconnects or cuts its body short errors the stream: that is bad input.
    const { done, value } = await reader.read().catch(() => {
      throw new HttpError(400, 'bad_body', 'the request body was cut off');
    });
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new HttpError(413, 'too_large', `body over ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const text = new TextDecoder().decode(concatBytes(chunks));
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad_json', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HttpError(
      400,
      'invalid',
      `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** 16 base62 characters from Web Crypto: ~95 bits, not enumerable. */
export function newId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // 256 mod 62 ≠ 0 leaves a tiny bias (4 of 62 symbols slightly likelier): irrelevant for ids.
  return Array.from(bytes, (b) => alphabet[b % 62]).join('');
}

/**
 * A failure a client caused, raised where the data is (a cursor this list never issued, a vote
 * over its address's cap, an unknown image); the dispatcher answers it with its 4xx.
 */
export class DbError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'bad_cursor' | 'address_cap',
    message: string,
  ) {
    super(message);
  }
}

export const DB_ERROR_STATUS = { not_found: 404, bad_cursor: 400, address_cap: 403, conflict: 409 };
