import { defineConfig } from 'drizzle-kit';

/** `npm run generate -w @ganstudio/db` writes SQL migrations from src/schema.ts into drizzle/ (committed). */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema.ts',
  out: './drizzle',
});
