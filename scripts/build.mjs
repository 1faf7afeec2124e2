// One build for the whole repository: the Prisma client, every TypeScript project (tsc -b,
// incremental), and the web UI bundle. `npm start` and `npm test` run it first.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildUi } from './build-ui.mjs';
import { generatePrismaClient } from './generate-prisma.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

generatePrismaClient();
execFileSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-b'], {
  cwd: root,
  stdio: 'inherit',
});
await buildUi(root);
console.log('build complete');
