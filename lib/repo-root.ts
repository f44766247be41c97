// The repository's root folder, found from this module's own location: the nearest folder
// above it with a package.json. The same code runs from the sources (lib/, under tsx) and
// from the build (dist/, bundled by scripts/bundle/build.mjs, where every module shares one folder), so
// a fixed number of `..` would be right in one of them only.
import { existsSync } from 'node:fs';
import path from 'node:path';

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`No package.json above ${start}: todo-deploy must run from its repository.`);
  }
}

export const REPO_ROOT = findRoot(import.meta.dirname);
