// drizzle-kit configuration for dbguard's end-to-end tests: the database comes from
// DATABASE_URL, the schema from drizzle/schema.ts (the tests swap in the reduced one).
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/schema.ts',
  dbCredentials: { url: process.env.DATABASE_URL ?? '' },
})
