import type { NextConfig } from 'next';

const config: NextConfig = {
  // Internal packages ship TypeScript source (STYLE.md); Next compiles them.
  transpilePackages: ['@ganstudio/models', '@ganstudio/api', '@ganstudio/db', '@ganstudio/storage', '@ganstudio/publish'],
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
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
          // tfjs needs 'wasm-unsafe-eval' for its wasm backend and blob: workers; WebGL needs nothing extra.
          {
            key: 'Content-Security-Policy',
            value:
              "default-src 'self'; img-src 'self' data: blob: https:; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; connect-src 'self' https:; worker-src 'self' blob:; frame-ancestors 'none'",
          },
        ],
      },
    ];
  },
};

export default config;
