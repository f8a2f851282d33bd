/**
 * Test databases: PGlite in memory always, and a throwaway database on a real PostgreSQL server
 * when one answers (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
 */
import pg from 'pg';
import { openDb, type DbHandle } from './client';

export const TEST_SERVER_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

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

/** A fresh database on the server, dropped again by the returned close(). */
export async function openThrowawayPostgres(url = TEST_SERVER_URL): Promise<DbHandle> {
  const name = `ganstudio_test_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  const handle = await openDb({ url: target.toString() });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      const drop = new pg.Client({ connectionString: url });
      await drop.connect();
      await drop.query(`drop database if exists ${name} with (force)`);
      await drop.end();
    },
  };
}

/** The drivers every db test runs on: PGlite always; Postgres where reachable (said, not silently skipped). */
export async function testDrivers(): Promise<{ name: string; open: () => Promise<DbHandle> }[]> {
  const drivers = [{ name: 'pglite', open: () => openDb() }];
  if (await postgresReachable()) drivers.push({ name: 'postgres', open: () => openThrowawayPostgres() });
  else console.warn(`PostgreSQL at ${TEST_SERVER_URL} is not reachable: db tests run on PGlite only`);
  return drivers;
}
