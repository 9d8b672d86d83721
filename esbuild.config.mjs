// One esbuild config, an entry per runtime: the CLI now; the extension host, its worker and the
// webview join it (see the README). `node esbuild.config.mjs --watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { readFileSync, existsSync, chmodSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  sourcemap: true,
  logLevel: 'warning',
  define: { __MPTCP_LENS_VERSION__: JSON.stringify(pkg.version) },
};
// The CLI's interpreter line names `node` alone: `env -S` (to pass Node options, such as
// --v8-pool-size=1, 5 % faster here on two cores) is not in BusyBox's env (Alpine, the node:alpine
// images of many CI systems), OpenBSD's or NetBSD's, nor in coreutils before 8.30: the CLI would not
// start there.
const CLI_SHEBANG = '#!/usr/bin/env node';
// runnable as it is (`dist/cli.js check …`), as npm makes a package's bin when it installs it; after
// every build, the watch mode's too
const executable = { name: 'executable', setup: (b) => b.onEnd((r) => { if (r.errors.length === 0) chmodSync('dist/cli.js', 0o755); }) };
const builds = [
  { ...common, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', banner: { js: CLI_SHEBANG }, plugins: [executable] },
  { ...common, entryPoints: ['scripts/bench-decode.ts'], outfile: 'dist/bench-decode.js', platform: 'node', format: 'cjs', target: 'node20' },
  { ...common, entryPoints: ['scripts/bench-viewer.ts'], outfile: 'dist/bench-viewer.js', platform: 'node', format: 'cjs', target: 'node20' },
];
if (existsSync('extension/extension.ts')) {
  builds.push({ ...common, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
  builds.push({ ...common, entryPoints: ['extension/worker.ts'], outfile: 'dist/worker.js', platform: 'node', format: 'cjs', target: 'node20' });
}
if (existsSync('webview/main.ts')) {
  builds.push({ ...common, entryPoints: ['webview/main.ts'], outfile: 'dist/webview.js', platform: 'browser', format: 'iife', target: 'chrome120', minify: true });
  builds.push({ ...common, entryPoints: ['webview/style.css'], outfile: 'dist/webview.css', sourcemap: false });
}
if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
