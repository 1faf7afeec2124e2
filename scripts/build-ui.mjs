// Builds the web UI into services/gateway/dist-ui: one esbuild bundle (app.js + source map), the
// page, its stylesheet, xterm's and the asciinema player's. The gateway serves that directory as it is, so everything the
// browser loads comes from our own origin (the CSP allows nothing else, and no inline script).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Bundles services/gateway/ui into services/gateway/dist-ui under the repository `root`. */
export async function buildUi(root) {
  const uiSrc = path.join(root, 'services/gateway/ui');
  const out = path.join(root, 'services/gateway/dist-ui');
  // The gateway lists dist-ui at start-up; a stale file from an older build must not linger.
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });

  await build({
    absWorkingDir: root,
    entryPoints: [path.join(uiSrc, 'main.ts')],
    outfile: path.join(out, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    // Types only: the UI imports nothing from our libs at run time.
    tsconfig: path.join(uiSrc, 'tsconfig.json'),
    logLevel: 'warning',
  });

  await Promise.all([
    copyFile(path.join(uiSrc, 'index.html'), path.join(out, 'index.html')),
    copyFile(path.join(uiSrc, 'styles.css'), path.join(out, 'styles.css')),
    copyFile(
      path.join(root, 'node_modules/@xterm/xterm/css/xterm.css'),
      path.join(out, 'xterm.css'),
    ),
    copyFile(
      path.join(root, 'node_modules/asciinema-player/dist/bundle/asciinema-player.css'),
      path.join(out, 'asciinema-player.css'),
    ),
  ]);
}

// `node scripts/build-ui.mjs` rebuilds just the UI.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildUi(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'));
  console.log('web UI built');
}
