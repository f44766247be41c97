// The build context of an image: every file under the app folder that its .dockerignore does
// not exclude (Docker's own matching rules, through @balena/dockerignore), and the
// content-derived tag computed from those files, the Dockerfile and the build args.
//
// One difference from `docker build <folder>`: a link to a folder outside the app folder is
// followed, and what it holds is part of the context as if it were there. That is how the
// backend and the mcp-server share apps/shared (each has src/shared -> ../../shared): the
// build step copies the listed files into a staging folder and builds from it (build.ts), so
// Docker gets real files, and the tag covers their contents.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';

// The package is CommonJS with a `default` property pointing at itself; under NodeNext the
// types see the default import as the module object, so the factory is reached as `.default`.
const ignore = dockerignore.default;

export interface ContextEntry {
  /** Path relative to the context root, with forward slashes. */
  path: string;
  kind: 'file' | 'symlink';
  /** Whether the owner may execute it (part of what Docker copies). */
  executable: boolean;
  /** sha256 of the file's bytes, or of the link's target for a symlink. */
  digest: string;
}

/** An entry as listContext finds it: with the place its bytes are read from. */
export interface ListedEntry extends ContextEntry {
  /** Absolute: <context>/<path>, or the file behind a followed link. */
  source: string;
}

/** Lines of a .dockerignore as Docker reads them: comments and blank lines dropped. */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** A predicate telling whether a context-relative path is excluded by the patterns. */
export function excludedBy(patterns: string[]): (relPath: string) => boolean {
  const matcher = ignore().add(patterns);
  return (relPath) => matcher.ignores(relPath);
}

/** The paths of `paths` that Docker would send, sorted so the result never depends on the walk. */
export function filterContext(paths: string[], dockerignoreText: string): string[] {
  const excluded = excludedBy(dockerignorePatterns(dockerignoreText));
  return paths.filter((p) => !excluded(p)).sort();
}

/**
 * Files that must never reach an image: dotenv files (.env, .env.local, .env.production ...).
 * An example file without values (.env.example) is allowed.
 */
export function isDotenvFile(relPath: string): boolean {
  const base = relPath.split('/').pop() ?? '';
  return /^\.env($|\.)/.test(base) && base !== '.env.example';
}

/** Context paths that are dotenv files: a non-empty result means the .dockerignore is unsafe. */
export function dotenvFilesIn(paths: string[]): string[] {
  return paths.filter(isDotenvFile);
}

/**
 * Walks `dir` and returns the context entries Docker would send. A folder excluded by the
 * patterns is not entered (node_modules, dist) unless an exception pattern (`!...`) exists,
 * since an exception could bring back something inside it. A link that stays inside `dir` is
 * an entry of its own, as Docker sends it; a link that leads outside is followed (see above).
 */
export function listContext(dir: string): ListedEntry[] {
  const ignoreFile = path.join(dir, '.dockerignore');
  const patterns = existsSync(ignoreFile) ? dockerignorePatterns(readFileSync(ignoreFile, 'utf8')) : [];
  const excluded = excludedBy(patterns);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  const root = realpathSync(dir);
  const inside = (target: string) => target === root || target.startsWith(root + path.sep);
  const entries: ListedEntry[] = [];
  const addFile = (rel: string, abs: string, mode: number) =>
    entries.push({ path: rel, kind: 'file', executable: (mode & 0o100) !== 0, digest: sha256(readFileSync(abs)), source: abs });
  // `absDir` is where the folder's files are read; `relDir` is its place in the context.
  const walk = (relDir: string, absDir: string) => {
    for (const name of readdirSync(absDir).sort()) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      const abs = path.join(absDir, name);
      const lstat = lstatSync(abs);
      if (lstat.isSymbolicLink() && !inside(realpathSync(abs))) {
        const target = statSync(abs);
        if (target.isDirectory()) {
          if (!(excluded(rel) && !hasExceptions)) walk(rel, realpathSync(abs));
        } else if (target.isFile() && !excluded(rel)) {
          addFile(rel, realpathSync(abs), target.mode);
        }
        continue;
      }
      if (lstat.isDirectory()) {
        if (excluded(rel) && !hasExceptions) continue;
        walk(rel, abs);
        continue;
      }
      if (excluded(rel)) continue;
      if (lstat.isSymbolicLink()) {
        entries.push({ path: rel, kind: 'symlink', executable: false, digest: sha256(readlinkSync(abs)), source: abs });
      } else if (lstat.isFile()) {
        addFile(rel, abs, lstat.mode);
      }
    }
  };
  walk('', dir);
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface TagInput {
  entries: ContextEntry[];
  /** The Dockerfile's text (it is hashed even when .dockerignore excludes it). */
  dockerfile: string;
  /** Build args passed to docker build, NODE_IMAGE among them. */
  buildArgs: Record<string, string>;
  /** The local image id of NODE_IMAGE when known, so a rebuilt base gives new tags. */
  baseImageId?: string;
}

/** Length of the content tag: 12 hex characters, the short form of a digest (like a short commit SHA). */
export const TAG_LENGTH = 12;

/** sha256 over everything that decides the image's content; never depends on time or order. */
export function contextDigest(input: TagInput): string {
  const hash = createHash('sha256');
  hash.update('todo-deploy image context v1\n');
  hash.update(`dockerfile ${sha256(input.dockerfile)}\n`);
  for (const key of Object.keys(input.buildArgs).sort()) hash.update(`arg ${key}=${input.buildArgs[key]}\n`);
  if (input.baseImageId) hash.update(`base ${input.baseImageId}\n`);
  for (const e of [...input.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    // Length-prefixed path so no file name can imitate another entry's line.
    hash.update(`${e.kind} ${e.executable ? 'x' : '-'} ${Buffer.byteLength(e.path)}:${e.path} ${e.digest}\n`);
  }
  return hash.digest('hex');
}

/** The image tag: the first 12 hex characters of the context digest. Never "latest". */
export function contextTag(input: TagInput): string {
  return contextDigest(input).slice(0, TAG_LENGTH);
}
