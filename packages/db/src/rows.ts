/**
 * The rows of a raw `db.execute(sql…)`: PGlite and node-postgres both answer `{ rows }`, which
 * Drizzle's pg-core types leave as unknown. The caller names the row type its SQL selects.
 */
export const rowsOf = <T>(result: unknown): T[] => (result as { rows: T[] }).rows;
