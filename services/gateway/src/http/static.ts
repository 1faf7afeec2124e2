import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Middleware } from 'koa';
import type { GatewayState } from './context.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * Serves the built web UI. Only files that exist in the UI directory at start-up can be
 * served (no path from the request reaches the file system), and every other GET outside
 * /api gets index.html, so the UI's own routes (/setup, /servers/…) load the app.
 */
export async function staticUi(dir: string): Promise<Middleware<GatewayState>> {
  const files = new Map<string, string>();
  const found = await listFiles(dir).catch(() => []);
  for (const entry of found)
    files.set('/' + path.relative(dir, entry).split(path.sep).join('/'), entry);
  const index = files.get('/index.html');
  if (!index)
    throw new Error(`the web UI is not built: ${dir}/index.html is missing (run npm run build)`);

  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) {
      await next();
      return;
    }
    const file = files.get(ctx.path) ?? index;
    ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    // Bundles carry no content hash yet, so the browser must revalidate.
    ctx.set('Cache-Control', 'no-cache');
    ctx.length = (await stat(file)).size;
    ctx.body = createReadStream(file);
  };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
