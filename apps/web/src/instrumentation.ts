// Migrates the database and registers the bundled model as the server starts, not on the first
// request (PGlite is opened once per process, here). A setting the server cannot run with stops it
// here with one line, before it takes traffic.
export async function register() {
  if (process.env['NEXT_RUNTIME'] === 'nodejs') {
    try {
      const { getContext } = await import('./server/context');
      await getContext();
    } catch (err) {
      if ((err as Error).constructor.name !== 'ConfigError') throw err;
      console.error(`error: ${(err as Error).message}`);
      process.exit(1);
    }
  }
}
