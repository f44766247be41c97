// @ts-check
// The build of what users run: every scripts/*.ts (and the ingress stand-in the sandbox
// starts) bundled by esbuild into dist/, one file per command plus shared chunks, with the
// npm packages left as imports of node_modules. `npm ci` runs it (the prepare script); the
// launcher (scripts/bundle/todo-deploy.mjs) runs it again when a source is newer than the build. So a
// command starts from plain JavaScript and nothing is transpiled at start-up, while tsx stays
// the way tests and development run the sources.
//
// Output is written so that a command already running from an older build keeps working:
// chunks are named by their content hash and never overwritten, every file is written to a
// temporary name and renamed into place, and the manifest (dist/build.json, written last)
// records the sources and their modification times, which is what the launcher compares.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DIST = 'dist';
export const MANIFEST = 'build.json';
/** Chunks no build has referenced for this long are removed (a run that started before may still import one). */
const STALE_CHUNK_MS = 24 * 60 * 60 * 1000;

/**
 * Packages bundled into one file of their own under dist/vendor/ instead of being imported from
 * node_modules. @kubernetes/client-node is about 870 modules with its dependencies: importing
 * them one by one took 1.3-2.5 s of every cluster command's start on this project's 2-core
 * machine, the same code as one minified file 0.2-0.4 s. The other packages are small or are
 * loaded only where needed, and stay external.
 */
export const VENDORED = ['@kubernetes/client-node'];
/** Optional native add-ons of `ws` (required inside try/catch): left to node_modules, where they are absent. */
const VENDOR_EXTERNAL = ['bufferutil', 'utf-8-validate'];
/** CommonJS dependencies of a vendored package call require(); an ES module has none of its own. */
const REQUIRE_BANNER = "import { createRequire as __vendorRequire } from 'node:module'; const require = __vendorRequire(import.meta.url);";
/** The lockfile decides what a vendored file contains: a changed lockfile rebuilds it (see vendorFile). */
const LOCKFILE = 'package-lock.json';

/**
 * The entry points: every command of scripts/, and the stand-in the sandbox runs in the background.
 * @param {string} root the repository root
 */
export function entryPoints(root) {
  const scripts = readdirSync(path.join(root, 'scripts'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join('scripts', f));
  return [...scripts, path.join('lib', 'controlplane', 'ingress-stand-in.ts')];
}

/**
 * Writes a file under a temporary name first, so a reader never sees half of it.
 * @param {string} file
 * @param {string | Uint8Array} contents
 */
function writeAtomic(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

/** @typedef {{ entries: string[], sources: Record<string, number> }} Manifest */

/**
 * Builds dist/ and returns the manifest. Throws with esbuild's messages (file:line) when a
 * source does not compile.
 * @param {string} root the repository root
 * @returns {Promise<Manifest>}
 */
export async function build(root) {
  const esbuild = await import('esbuild').catch(() => {
    throw new Error('esbuild is not installed. Fix: run `npm ci` (it installs the devDependencies, esbuild among them).');
  });
  const out = path.join(root, DIST);
  const vendored = await buildVendored(esbuild, root, out);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: entryPoints(root),
    outdir: out,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'silent',
    plugins: [vendorImports(vendored)],
  });
  mkdirSync(out, { recursive: true });
  const written = new Set();
  // Source maps first, then chunks, then entries: an entry never points at a missing chunk.
  const rank = (/** @type {string} */ f) => (f.endsWith('.map') ? 0 : path.basename(f).startsWith('chunk-') ? 1 : 2);
  for (const file of [...result.outputFiles].sort((a, b) => rank(a.path) - rank(b.path))) {
    written.add(path.basename(file.path));
    const isChunk = path.basename(file.path).startsWith('chunk-');
    if (isChunk && existsSync(file.path)) continue; // same hash, same content
    writeAtomic(file.path, file.contents);
  }
  const inputs = Object.keys(result.metafile.inputs).sort();
  const sources = Object.fromEntries(inputs.map((f) => [f, statSync(path.join(root, f)).mtimeMs]));
  // The build's own definition counts as a source: a changed build rebuilds.
  const self = path.relative(root, new URL(import.meta.url).pathname);
  sources[self] = statSync(path.join(root, self)).mtimeMs;
  // The vendored files follow the lockfile: a changed lockfile rebuilds.
  if (existsSync(path.join(root, LOCKFILE))) sources[LOCKFILE] = statSync(path.join(root, LOCKFILE)).mtimeMs;
  const manifest = { entries: entryPoints(root).map((e) => path.basename(e, '.ts')), sources };
  writeAtomic(path.join(out, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  const now = Date.now();
  for (const name of readdirSync(out)) {
    if (written.has(name) || name === MANIFEST || !name.startsWith('chunk-')) continue;
    const file = path.join(out, name);
    if (now - statSync(file).mtimeMs > STALE_CHUNK_MS) rmSync(file, { force: true });
  }
  const vendorDir = path.join(out, 'vendor');
  const current = new Set(Object.values(vendored));
  for (const name of readdirSync(vendorDir)) {
    const file = path.join(vendorDir, name);
    if (!current.has(name) && now - statSync(file).mtimeMs > STALE_CHUNK_MS) rmSync(file, { force: true });
  }
  return manifest;
}

/**
 * The vendored file of a package: named by a hash of the lockfile (which pins the package and
 * every dependency bundled with it) and of this build's definition, so it is built once per
 * installed set of packages and kept across the builds of the sources.
 * @param {string} root
 * @param {string} pkg
 */
function vendorFile(root, pkg) {
  const hash = createHash('sha256');
  for (const f of [LOCKFILE, path.relative(root, new URL(import.meta.url).pathname)]) {
    const file = path.join(root, f);
    hash.update(existsSync(file) ? readFileSync(file) : f);
  }
  hash.update(pkg);
  return `${pkg.replace(/^@/, '').replace(/\//g, '-')}-${hash.digest('hex').slice(0, 12)}.js`;
}

/**
 * Builds the vendored packages that are not built yet; returns each package's file name in dist/vendor/.
 * @param {typeof import('esbuild')} esbuild
 * @param {string} root
 * @param {string} out
 * @returns {Promise<Record<string, string>>}
 */
async function buildVendored(esbuild, root, out) {
  const dir = path.join(out, 'vendor');
  mkdirSync(dir, { recursive: true });
  /** @type {Record<string, string>} */
  const files = {};
  for (const pkg of VENDORED) {
    const name = vendorFile(root, pkg);
    files[pkg] = name;
    if (existsSync(path.join(dir, name))) continue;
    const result = await esbuild.build({
      absWorkingDir: root,
      stdin: { contents: `export * from ${JSON.stringify(pkg)};`, resolveDir: root, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      external: VENDOR_EXTERNAL,
      banner: { js: REQUIRE_BANNER },
      // Identifiers stay readable in stack traces; whitespace and syntax are what cost parse time.
      minifyWhitespace: true,
      minifySyntax: true,
      legalComments: 'none',
      write: false,
      logLevel: 'silent',
    });
    writeAtomic(path.join(dir, name), result.outputFiles[0].contents);
  }
  return files;
}

/**
 * Imports of a vendored package point at its file in dist/vendor/ (entries and chunks both live
 * in dist/, so one relative path serves all).
 * @param {Record<string, string>} files
 * @returns {import('esbuild').Plugin}
 */
function vendorImports(files) {
  const filter = new RegExp(`^(${Object.keys(files).map((p) => p.replace(/[/.]/g, '\\$&')).join('|')})$`);
  return {
    name: 'vendored-packages',
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: `./vendor/${files[args.path]}`, external: true }));
    },
  };
}

// `node scripts/bundle/build.mjs`: the prepare script, and by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const started = Date.now();
  try {
    const manifest = await build(root);
    process.stdout.write(`todo-deploy: built ${manifest.entries.length} commands into ${DIST}/ in ${Date.now() - started} ms\n`);
  } catch (err) {
    process.stderr.write(`todo-deploy: the build failed:\n${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
