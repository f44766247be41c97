// What the suites need of the machine itself, so that `npm test` alone works on a fresh
// machine: Debian's packages (installed when we are root with apt, else listed with the
// command to run) and a Docker engine (started when none answers, stopped again when the
// test command ends, so the machine is left as it was found).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

/**
 * Debian packages by what needs them. One list, so `.ci/run`, the README and the test
 * command cannot disagree.
 */
export const DEBIAN_PACKAGES: Record<string, readonly string[]> = {
  // backend, mcp-server, frontend and browser suites start a real PostgreSQL per suite.
  postgres: ['postgresql'],
  // images suite: a real Docker engine; debootstrap builds the offline base image.
  docker: ['docker.io', 'debootstrap', 'ca-certificates'],
  // browser suite: headless Debian Chromium.
  browser: ['chromium'],
  // the sandbox build (lib/controlplane/build/build.sh): gcc and a static C library for the
  // pause image; Debian's runc for the real node (pinned as RUNC_VERSION in versions.env).
  sandbox: ['gcc', 'libc6-dev', 'runc'],
  // the real node (lib/controlplane/node): ip, iptables inside its namespace, openssl for the
  // API server's client certificate (nsenter and umount come with util-linux and mount); ipset
  // for kube-router, which enforces the NetworkPolicies in the real-node suite's netpol test.
  node: ['iproute2', 'iptables', 'openssl', 'ipset'],
  // the integration suite's terminal test: `up` and `down` in a real terminal (a tmux pane).
  terminal: ['tmux'],
};

/** The packages of `groups` that dpkg does not report as installed. */
export function missingPackages(groups: readonly string[], isInstalled: (pkg: string) => boolean = dpkgInstalled): string[] {
  const wanted = [...new Set(groups.flatMap((g) => DEBIAN_PACKAGES[g] ?? []))];
  return wanted.filter((pkg) => !isInstalled(pkg));
}

function dpkgInstalled(pkg: string): boolean {
  const out = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return out.status === 0 && out.stdout.includes('install ok installed');
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs what is missing (root with apt), or throws with the exact command to run. */
export function ensurePackages(groups: readonly string[], log: (line: string) => void): void {
  if (!hasCommand('dpkg-query')) {
    log(`prepare: not a Debian-like system; make sure these are installed: ${[...new Set(groups.flatMap((g) => DEBIAN_PACKAGES[g] ?? []))].join(', ')}`);
    return;
  }
  const missing = missingPackages(groups);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot() || !hasCommand('apt-get')) {
    throw new Error(`prepare: the suites need Debian packages that are not installed: ${missing.join(', ')}. Fix: run \`sudo ${command}\`, then npm test again.`);
  }
  log(`prepare: installing Debian packages ${missing.join(', ')}`);
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) throw new Error(`prepare: \`apt-get ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}). Fix: run \`${command}\` by hand and read its message.`);
  }
  log(`prepare: Debian packages installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

function dockerAnswers(): boolean {
  return spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

export interface DockerEngine {
  /** True when this process started the engine (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * A Docker engine that answers `docker info`: the one already running, else a dockerd started
 * here in the background (root only) with its log in the cache folder. stop() ends only an
 * engine this function started.
 */
export async function ensureDockerEngine(cacheDir: string, log: (line: string) => void, deadlineMs = 90_000): Promise<DockerEngine> {
  if (dockerAnswers()) return { started: false, stop: async () => {} };
  if (!hasCommand('dockerd')) throw new Error('prepare: no Docker engine answers and dockerd is not installed. Fix: install docker.io (`apt-get install docker.io`) or start your Docker engine, then npm test again.');
  if (!isRoot()) throw new Error('prepare: no Docker engine answers, and starting dockerd needs root. Fix: start your Docker engine (e.g. `sudo dockerd &` or `sudo systemctl start docker`), then npm test again.');
  mkdirSync(cacheDir, { recursive: true });
  const logFile = path.join(cacheDir, 'dockerd.log');
  const fd = openSync(logFile, 'a');
  const proc = spawn('dockerd', [], { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  proc.unref();
  log(`prepare: started a Docker engine (dockerd pid ${proc.pid}, log ${logFile}); it is stopped when the tests end`);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + deadlineMs;
  while (!dockerAnswers()) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`prepare: the Docker engine did not start (${proc.exitCode !== null ? `dockerd exited with ${proc.exitCode}` : `no answer within ${deadlineMs / 1000}s`}). Fix: read ${logFile}.`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    started: true,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      log('prepare: stopped the Docker engine the tests started');
    },
  };
}
