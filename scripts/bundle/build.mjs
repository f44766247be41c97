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
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DIST = 'dist';
export const MANIFEST = 'build.json';
/** Chunks no build has referenced for this long are removed (a run that started before may still import one). */
const STALE_CHUNK_MS = 24 * 60 * 60 * 1000;

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
  const manifest = { entries: entryPoints(root).map((e) => path.basename(e, '.ts')), sources };
  writeAtomic(path.join(out, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
  const now = Date.now();
  for (const name of readdirSync(out)) {
    if (written.has(name) || name === MANIFEST || !name.startsWith('chunk-')) continue;
    const file = path.join(out, name);
    if (now - statSync(file).mtimeMs > STALE_CHUNK_MS) rmSync(file, { force: true });
  }
  return manifest;
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
