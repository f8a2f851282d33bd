/** One settings schema for the Next.js app, the Deno edge and `ganstudio upload`: same bounds, same rules. */
import { describe, expect, it } from 'vitest';

import { gallerySettings, SettingsError } from './settings';

const PG = 'postgres://postgres@127.0.0.1:5432/gallery';
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SettingsError);
    return (err as Error).message;
  }
  throw new Error('no error');
};

describe('gallerySettings', () => {
  it('defaults: nothing trusted, PGlite in the data folder, the identity age of 5 s', () => {
    expect(gallerySettings({}, 'next', { defaultDataDir: '/srv/gallery/.data' })).toEqual({
      databaseUrl: undefined,
      blobToken: undefined,
      visitorSecret: undefined,
      publicUrl: undefined,
      identityMinAgeS: 5,
      dataDir: '/srv/gallery/.data',
      rateLimitScale: 1,
      renderBackend: 'wasm',
      proxy: { hops: 0 },
      debug: false,
      production: false,
    });
    // Empty variables are unset, as a shell's `X=` means.
    expect(gallerySettings({ DATABASE_URL: '', TRUSTED_PROXY_HOPS: '' }, 'deno').databaseUrl).toBe(
      undefined,
    );
  });

  it('every platform gets the same bounds (they drifted: the edge took any hop count and any age)', () => {
    for (const platform of ['next', 'deno', 'cli'] as const) {
      expect(errorOf(() => gallerySettings({ IDENTITY_MIN_AGE_S: '86400' }, platform))).toMatch(
        /^IDENTITY_MIN_AGE_S /,
      );
      expect(errorOf(() => gallerySettings({ TRUSTED_PROXY_HOPS: '11' }, platform))).toMatch(
        /^TRUSTED_PROXY_HOPS must be 0–10/,
      );
      expect(gallerySettings({ TRUSTED_PROXY_HOPS: '2' }, platform).proxy).toEqual({ hops: 2 });
      // Images are kept unless a retention of whole days (at least 1) is asked for.
      expect(gallerySettings({}, platform).imageRetentionDays).toBeUndefined();
      expect(gallerySettings({ IMAGE_RETENTION_DAYS: '90' }, platform).imageRetentionDays).toBe(90);
      for (const bad of ['0', '1.5', 'forever'])
        expect(errorOf(() => gallerySettings({ IMAGE_RETENTION_DAYS: bad }, platform))).toMatch(
          /^IMAGE_RETENTION_DAYS /,
        );
    }
  });

  it('every bad variable in one line', () => {
    const message = errorOf(() =>
      gallerySettings(
        {
          DATABASE_URL: 'mysql://x',
          VISITOR_SECRET: 'short',
          RATE_LIMIT_SCALE: '-1',
          PUBLIC_URL: 'ftp://x',
          TRUSTED_PROXY_HOPS: 'two',
        },
        'next',
      ),
    );
    expect(message.split('\n')).toHaveLength(1);
    for (const name of [
      'DATABASE_URL',
      'VISITOR_SECRET',
      'RATE_LIMIT_SCALE',
      'PUBLIC_URL',
      'TRUSTED_PROXY_HOPS',
    ])
      expect(message).toContain(name);
  });

  it('the secret rule is one rule: in production on PostgreSQL, VISITOR_SECRET is required', () => {
    const rule = /VISITOR_SECRET \(16\+ characters\) is required in production with DATABASE_URL/;
    expect(
      errorOf(() => gallerySettings({ NODE_ENV: 'production', DATABASE_URL: PG }, 'next')),
    ).toMatch(rule);
    expect(
      errorOf(() => gallerySettings({ DENO_DEPLOYMENT_ID: 'x', DATABASE_URL: PG }, 'deno')),
    ).toMatch(rule);
    // Locally, or on PGlite (one process), a generated secret is fine.
    expect(gallerySettings({ DATABASE_URL: PG }, 'deno').production).toBe(false);
    expect(gallerySettings({ NODE_ENV: 'production' }, 'next').production).toBe(true);
    expect(errorOf(() => gallerySettings({}, 'deno', { requireDatabase: true }))).toMatch(
      /^DATABASE_URL is required/,
    );
  });

  it('on Vercel the address comes from the header Vercel writes, unless told otherwise', () => {
    expect(gallerySettings({ VERCEL: '1' }, 'next').proxy).toBe('vercel');
    expect(gallerySettings({ VERCEL: '1', TRUSTED_PROXY_HOPS: '0' }, 'next').proxy).toEqual({
      hops: 0,
    });
  });

  it('a trust the entry cannot honour stops the start: one decision for every entry', () => {
    const direct = { connectionAddress: true };
    const platformServer = { connectionAddress: false };
    // npm start with an env copied from Vercel: any client could write X-Vercel-Forwarded-For.
    for (const env of [{ VERCEL: '1' }, { TRUSTED_PROXY_HOPS: 'vercel' }])
      expect(errorOf(() => gallerySettings(env, 'next', direct))).toMatch(
        /is for Vercel's runtime, whose edge writes the client's address/,
      );
    // next start with hops: the list has no connection address at its end to count back from.
    expect(
      errorOf(() => gallerySettings({ TRUSTED_PROXY_HOPS: '2' }, 'next', platformServer)),
    ).toMatch(
      /TRUSTED_PROXY_HOPS=2 counts proxies back from the connection's own address, which only npm start/,
    );
    expect(gallerySettings({ TRUSTED_PROXY_HOPS: '2' }, 'next', direct).proxy).toEqual({ hops: 2 });
    expect(gallerySettings({ VERCEL: '1' }, 'next', platformServer).proxy).toBe('vercel');
  });
});
