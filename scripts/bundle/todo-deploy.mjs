#!/usr/bin/env node
// @ts-check
// The launcher behind every `npm run <command>`: `node scripts/bundle/todo-deploy.mjs <command> [args]`.
// It runs dist/<command>.js, the build of scripts/<command>.ts (scripts/bundle/build.mjs), and rebuilds
// first when a source changed since that build, so what runs is plain JavaScript that was
// never transpiled at start-up and still always matches the sources.
// The Node version check comes first: the launcher is plain JavaScript Node 20 can parse, so that
// it can say which Node is needed before anything else runs.
import '../../lib/require-node.mjs';
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(root, 'dist');
const command = process.argv[2] ?? '';

/** @typedef {import('./build.mjs').Manifest} Manifest */

/**
 * The build's manifest, or undefined when there is none (or it is unreadable).
 * @returns {Manifest | undefined}
 */
function readManifest() {
  try {
    return JSON.parse(readFileSync(path.join(dist, 'build.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * True when every source of the build still has the modification time it was built from.
 * @param {Manifest | undefined} manifest
 */
function isCurrent(manifest) {
  if (!manifest) return false;
  for (const [file, mtime] of Object.entries(manifest.sources)) {
    try {
      if (statSync(path.join(root, file)).mtimeMs !== mtime) return false;
    } catch {
      return false; // a source was removed or renamed
    }
  }
  return true;
}

/**
 * Builds dist/ again (a source changed, or there is no build yet); exits 2 when it cannot.
 * @returns {Promise<Manifest>}
 */
async function rebuild() {
  let build;
  try {
    ({ build } = await import('./build.mjs'));
  } catch (err) {
    process.stderr.write(`todo-deploy: cannot build the commands (${err instanceof Error ? err.message : String(err)}). Fix: run \`npm ci\` in ${root}.\n`);
    process.exit(2);
  }
  try {
    return await build(root);
  } catch (err) {
    process.stderr.write(`todo-deploy: the build failed, so nothing was run:\n${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}

const current = readManifest();
const manifest = current && isCurrent(current) ? current : await rebuild();

if (!manifest.entries.includes(command)) {
  process.stderr.write(`todo-deploy: unknown command "${command}". Known: ${manifest.entries.join(', ')}.\n`);
  process.exit(2);
}
// V8's compiled code of the build is kept between runs (Node's module compile cache): loading the
// vendored Kubernetes client then takes about half as long. A cache that cannot be written only
// costs that saving.
module.enableCompileCache?.(path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'todo-deploy', 'compile-cache'));
// The command sees its own arguments, as if it had been started directly.
process.argv.splice(1, 2, path.join(dist, `${command}.js`));
// Stack traces (--debug only) name the TypeScript sources rather than the bundle.
if (process.argv.includes('--debug')) process.setSourceMapsEnabled(true);
await import(pathToFileURL(process.argv[1]).href);
