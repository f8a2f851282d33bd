import type { NextConfig } from 'next';

const config: NextConfig = {
  // Internal packages ship TypeScript source, not builds; Next compiles them.
  transpilePackages: [
    '@ganstudio/models',
    '@ganstudio/api',
    '@ganstudio/db',
    '@ganstudio/storage',
    '@ganstudio/runs',
  ],
  // Loaded by Node at run time, not bundled: PGlite's wasm/data files, pg's optional natives, and
  // one tfjs instance for the server renderer (a bundled copy would have its own kernel registry).
  serverExternalPackages: [
    '@electric-sql/pglite',
    'pg',
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-cpu',
    // The server renderer's wasm backend reads its .wasm binary from its own package folder.
    '@tensorflow/tfjs-backend-wasm',
  ],
  poweredByHeader: false,
  // The gallery draws its images pixel-exact with plain <img>: no optimizer route that resizes on
  // request (server.mjs answers /_next/image with 404 as well).
  images: { unoptimized: true },
  headers() {
    return Promise.resolve([
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
          // The gallery uses none of these; a page that tried (an injected script) gets nothing.
          {
            key: 'Permissions-Policy',
            value:
              'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
          },
          ...(process.env.NODE_ENV === 'production'
            ? [{ key: 'Strict-Transport-Security', value: 'max-age=63072000; includeSubDomains' }]
            : []),
        ],
      },
      // Pages get their CSP, with a per-request nonce, from src/proxy.ts; JSON and files get a closed one.
      ...['/api/:path*', '/blobs/:path*', '/i/:id/og.png'].map((source) => ({
        source,
        headers: [
          {
            key: 'Content-Security-Policy',
            value:
              "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
          },
        ],
      })),
    ]);
  },
};

export default config;
