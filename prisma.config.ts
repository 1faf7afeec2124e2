import { defineConfig } from 'prisma/config';

// Only `prisma generate` runs here; migrations are applied by @sallyport/db at start-up.
// DATABASE_URL is read lazily so that generate works without one.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/sallyport' },
});
