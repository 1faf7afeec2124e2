// Generates the Prisma client into libs/db/src/generated (git-ignored). Run by `npm ci`
// (prepare) and by the build, so type checking and lint always see the current schema.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function generatePrismaClient() {
  execFileSync(path.join(root, 'node_modules', '.bin', 'prisma'), ['generate'], {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...process.env,
      // `prisma generate` is pure JavaScript but insists that a schema engine path exists; the
      // engine itself (for `prisma migrate`) cannot be downloaded here and is never run.
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      PRISMA_HIDE_UPDATE_MESSAGE: '1',
    },
  });
  if (!existsSync(path.join(root, 'libs/db/src/generated/prisma/client.ts'))) {
    throw new Error('prisma generate produced no client');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) generatePrismaClient();
