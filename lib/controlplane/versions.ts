// The control plane's versions live in one file, lib/controlplane/build/versions.env, read by
// the Go build script and by this module; the binary folder is derived from them, so a
// change of version can never run stale binaries.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root.ts';

export interface ControlPlaneVersions {
  /** Kubernetes release of kube-apiserver, kube-controller-manager, kube-scheduler, e.g. 1.34.4 */
  kubernetes: string;
  /** etcd server release, e.g. 3.6.16 */
  etcd: string;
  /** kwok release, e.g. 0.8.0 */
  kwok: string;
}

export const repoRoot = REPO_ROOT;
export const versionsFile = join(repoRoot, 'lib', 'controlplane', 'build', 'versions.env');
export const buildScript = join(repoRoot, 'lib', 'controlplane', 'build', 'build.sh');

/** The programs the build produces, all in one folder. */
export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type Binary = (typeof BINARIES)[number];

const KEYS = { K8S_VERSION: 'kubernetes', ETCD_VERSION: 'etcd', KWOK_VERSION: 'kwok' } as const;

/** Parses versions.env (KEY=value lines, # comments). Pure. */
export function parseVersionsEnv(text: string, file = versionsFile): ControlPlaneVersions {
  const found: Partial<ControlPlaneVersions> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1] as keyof typeof KEYS;
    if (!(key in KEYS)) continue;
    const value = match[2].trim().replace(/^v/, '');
    if (!/^\d+\.\d+\.\d+$/.test(value)) {
      throw new Error(`${file}: ${key} must be a release like 1.2.3, not '${match[2]}'. Fix the line and run lib/controlplane/build/build.sh --pin.`);
    }
    found[KEYS[key]] = value;
  }
  for (const [key, name] of Object.entries(KEYS)) {
    if (!found[name]) throw new Error(`${file}: ${key} is missing. Add a line ${key}=<version>.`);
  }
  return found as ControlPlaneVersions;
}

export function readVersions(file = versionsFile): ControlPlaneVersions {
  return parseVersionsEnv(readFileSync(file, 'utf8'), file);
}

/** ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane: binaries and the CLI's state. Pure. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(env.HOME || home, '.cache');
  return join(base, 'todo-deploy', 'controlplane');
}

/** Where build.sh puts the binaries of these versions (the same rule as the script). Pure. */
export function binDirFor(versions: ControlPlaneVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(cacheRoot(env, home), `${versions.kubernetes}-${versions.etcd}-${versions.kwok}`, 'bin');
}

export function describeVersions(v: ControlPlaneVersions): string {
  return `kubernetes v${v.kubernetes}, etcd v${v.etcd}, kwok v${v.kwok}`;
}

/** Throws, saying how to build them, when a binary of the pinned versions is missing. */
export function checkBinaries(binDir: string, versions: ControlPlaneVersions): void {
  const missing = BINARIES.filter((b) => !existsSync(join(binDir, b)));
  if (missing.length > 0) {
    throw new Error(
      `The control-plane binaries for ${describeVersions(versions)} are not built (${missing.join(', ')} missing in ${binDir}). ` +
        'Run `npm run controlplane:build` (needs Go and the Go module proxy; about 15 minutes the first time).',
    );
  }
}
