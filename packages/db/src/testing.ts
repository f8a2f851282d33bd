/**
 * Test databases: PGlite in memory always, and a throwaway database on a real PostgreSQL server
 * when one answers (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import pg from 'pg';

import { openDb, type DbHandle } from './client';

export const TEST_SERVER_URL =
  process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresReachable(url = TEST_SERVER_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/** An empty database created on the server for one test run; drop() removes it. */
export async function createThrowawayDatabase(
  url = TEST_SERVER_URL,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `ganstudio_test_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: () => admin(`drop database if exists ${name} with (force)`),
  };
}

/** A fresh, migrated database on the server, dropped again by the returned close(). */
export async function openThrowawayPostgres(url = TEST_SERVER_URL): Promise<DbHandle> {
  const scratch = await createThrowawayDatabase(url);
  const handle = await openDb({ url: scratch.url });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await scratch.drop();
    },
  };
}

/** The drivers every db test runs on: PGlite always; Postgres where reachable (said, not silently skipped). */
export async function testDrivers(): Promise<{ name: string; open: () => Promise<DbHandle> }[]> {
  const drivers = [{ name: 'pglite', open: () => openDb() }];
  if (await postgresReachable())
    drivers.push({ name: 'postgres', open: () => openThrowawayPostgres() });
  else
    console.warn(`PostgreSQL at ${TEST_SERVER_URL} is not reachable: db tests run on PGlite only`);
  return drivers;
}
