// One build for the whole repository: the Prisma client, every TypeScript project (tsc -b,
// incremental), and the web UI bundle. `npm start` and `npm test` run it first.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildUi } from './build-ui.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, args, env = {}) =>
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });

// `prisma generate` is pure JavaScript, but insists that a schema engine path exists; the
// engine itself (for `prisma migrate`) cannot be downloaded here and is never run.
run(bin('prisma'), ['generate'], {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
});
if (!existsSync(path.join(root, 'libs/db/src/generated/prisma/client.ts')))
  throw new Error('prisma generate produced no client');
run(bin('tsc'), ['-b']);
await buildUi(root);
console.log('build complete');
