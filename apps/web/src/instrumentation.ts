// Migrates the database and registers the bundled model as the server starts, not on the first
// request (PGlite is opened once per process, here).
export async function register() {
  if (process.env['NEXT_RUNTIME'] === 'nodejs') {
    const { startServer } = await import('./server/context');
    await startServer();
  }
}
