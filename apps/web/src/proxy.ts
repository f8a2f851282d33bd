// A fresh CSP nonce for every page (Next.js applies it to its own scripts when the request carries
// the policy), so no script runs inline without it: no 'unsafe-inline' for scripts.
// 'strict-dynamic' lets the nonce'd bootstrap load the app's chunks; 'wasm-unsafe-eval' is what
// TF.js's wasm backend needs to compile its binary, and blob: workers are its threads.
import { NextResponse, type NextRequest } from 'next/server';

export function contentSecurityPolicy(nonce: string, dev = false): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic' 'wasm-unsafe-eval'${dev ? " 'unsafe-eval'" : ''}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: https:",
    "connect-src 'self' https:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function proxy(request: NextRequest) {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  // next dev's React refresh evaluates code with eval; production never does.
  const csp = contentSecurityPolicy(nonce, process.env.NODE_ENV !== 'production');
  const headers = new Headers(request.headers);
  headers.set('x-nonce', nonce);
  headers.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('content-security-policy', csp);
  return response;
}

export const config = {
  // Pages only: the API answers JSON and images, and static files carry no scripts to guard.
  matcher: [
    {
      source:
        '/((?!api/|blobs/|_next/static|_next/image|tfjs-wasm/|favicon.ico|i/[^/]+/og\\.png).*)',
      missing: [{ type: 'header', key: 'next-router-prefetch' }],
    },
  ],
};
