// A throwaway copy of the repository's scripts for running them as child processes, the way
// `npm run up` runs them: the launcher (scripts/bundle/todo-deploy.mjs) and the build of the
// commands in dist/. The scripts find the repository root from their own location, so each
// sandbox holds a copy of lib/, scripts/ and dist/ (node_modules linked) whose env/dev.env and
// .env the test writes: the real repository's .env, if a developer has one, is never read. When
// the repository's build is current (its manifest names every source's modification time, as the
// launcher checks), the copy's manifest names the copies' times, so the launcher runs it as it
// is; when not, the launcher builds the sandbox's sources first, as `npm run` would. A run
// gets a clean environment (HOME and TMPDIR inside the sandbox), so no secret or kubeconfig of
// the person running the tests leaks in.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startFakeApiServer, type FakeApiServer } from '../fixtures/core/fake-apiserver.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
const LAUNCHER = path.join('scripts', 'bundle', 'todo-deploy.mjs');
const RUN_DEADLINE_MS = 60_000;

/** A valid env/dev.env for the sandbox (READY_TIMEOUT short: no test waits on a gate). */
export const DEV_ENV = [
  'NAMESPACE=todo',
  'DOMAIN=todo.local',
  'REPLICAS=1',
  'IMAGE_PULL_POLICY=Never',
  'FRONTEND_IMAGE=todo-frontend',
  'BACKEND_IMAGE=todo-backend',
  'MCP_SERVER_IMAGE=todo-mcp-server',
  'POSTGRES_IMAGE=todo-postgres',
  'REDIS_IMAGE=todo-redis',
  'IMAGE_TAG=0.1.0',
  'READY_TIMEOUT=30',
  '',
].join('\n');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

export interface RunOptions {
  tty?: boolean;
  /**
   * Sends `signal` once the output matches `when` (or, for a function, once it returns true: it
   * is asked on each output and every 100 ms), as a terminal (Ctrl-C) or a supervisor would.
   */
  interrupt?: { when: RegExp | ((output: string) => boolean); signal: NodeJS.Signals };
}

export interface ScriptSandbox {
  dir: string;
  /** Writes env/dev.env (DEV_ENV unless given) and .env (removed unless given). */
  writeEnv(files?: { devEnv?: string; dotenv?: string }): void;
  /**
   * Runs scripts/<script> and collects its output: a command of the build (up.ts, down.ts, ...)
   * through the launcher as `npm run` does, any other script (a test's own probe) with tsx,
   * in one process either way, so a signal reaches the script itself. With `tty` it runs on a
   * pseudo-terminal (util-linux `script`, 60 columns) so listr2 uses its default renderer, as for
   * a person at a terminal; stdout then carries both streams.
   */
  run(script: string, args: string[], env: Record<string, string>, options?: RunOptions): Promise<Run>;
  /** A recording fake API server seeded with what a cluster ready for the stack holds, and a kubeconfig for it. */
  fakeServer(options?: { rejectPlurals?: string[]; holdPaths?: string[] }): Promise<{ server: FakeApiServer; kubeconfig: string }>;
  /** Stops the fake servers started since the last call. */
  stopServers(): Promise<void>;
  remove(): void;
}

// What a cluster ready for the stack holds before `up` (an ingress class, a Dapr control plane),
// so a run gets past the cluster checks to the stages.
const READY_CLUSTER = parseAllDocuments(readFileSync(path.resolve(here, '../fixtures/core/ready-cluster.yaml'), 'utf8')).map((d) => d.toJS());

/** The build's manifest (scripts/bundle/build.mjs): the commands and each source's modification time. */
interface Manifest {
  entries: string[];
  sources: Record<string, number>;
}

/**
 * A copy's files have new modification times, so the copied manifest would send the launcher to
 * build again (2 s of a 2-core machine per sandbox, on every test file that makes one). When the
 * repository's build is current, the copies are the very sources it was built from: their times
 * go into the copy's manifest. A stale build is left stale, for the launcher to rebuild.
 */
function restampCurrentBuild(dir: string): void {
  const file = path.join('dist', 'build.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(REPO, file), 'utf8')) as Manifest;
  } catch {
    return; // no build yet: the launcher makes one
  }
  const mtime = (root: string, f: string) => (existsSync(path.join(root, f)) ? statSync(path.join(root, f)).mtimeMs : undefined);
  if (!Object.entries(manifest.sources).every(([f, t]) => mtime(REPO, f) === t)) return;
  const sources = Object.fromEntries(Object.keys(manifest.sources).map((f) => [f, mtime(dir, f)]));
  writeFileSync(path.join(dir, file), JSON.stringify({ ...manifest, sources }));
}

export function createScriptSandbox(prefix: string): ScriptSandbox {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  // The build's sources (lib/, scripts/, the lockfile) and the build itself.
  for (const folder of ['lib', 'scripts', 'dist']) {
    if (existsSync(path.join(REPO, folder))) cpSync(path.join(REPO, folder), path.join(dir, folder), { recursive: true });
  }
  for (const file of ['package.json', 'tsconfig.json', 'package-lock.json']) copyFileSync(path.join(REPO, file), path.join(dir, file));
  restampCurrentBuild(dir);
  // The commands of the build: scripts/*.ts, which build.mjs bundles, one command each.
  const commands = new Set(readdirSync(path.join(dir, 'scripts')).filter((f) => f.endsWith('.ts')));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  mkdirSync(path.join(dir, 'env'));
  copyFileSync(path.join(REPO, 'env', '.env.example'), path.join(dir, 'env', '.env.example'));
  mkdirSync(path.join(dir, 'tmp'));
  const servers: FakeApiServer[] = [];

  return {
    dir,
    writeEnv(files = {}) {
      writeFileSync(path.join(dir, 'env', 'dev.env'), files.devEnv ?? DEV_ENV);
      rmSync(path.join(dir, '.env'), { force: true });
      if (files.dotenv !== undefined) writeFileSync(path.join(dir, '.env'), files.dotenv);
    },
    run(script, args, env, options = {}) {
      return new Promise((resolve, reject) => {
        // One process either way (the launcher imports the command; tsx as a loader, not its CLI):
        // the tsx CLI's own wrapper process relays a signal and, when the child's answer is slow,
        // kills it outright.
        const argv = commands.has(script)
          ? [process.execPath, path.join(dir, LAUNCHER), script.replace(/\.ts$/, ''), ...args]
          : [process.execPath, '--import', 'tsx', path.join(dir, 'scripts', script), ...args];
        const base = options.tty ? { TERM: 'xterm-256color' } : { CI: 'true', NO_COLOR: '1' };
        const childEnv = { PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: path.join(dir, 'tmp'), ...base, ...env };
        const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
        const child = options.tty
          ? spawn('script', ['-qefc', `stty cols 60 rows 50; exec ${quoted}`, '/dev/null'], { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
          : spawn(argv[0]!, argv.slice(1), { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let interrupted = false;
        const when = options.interrupt?.when;
        const interrupt = () => {
          if (!options.interrupt || interrupted) return;
          if (!(typeof when === 'function' ? when(stdout + stderr) : when!.test(stdout + stderr))) return;
          interrupted = true;
          child.kill(options.interrupt.signal);
        };
        const poll = typeof when === 'function' ? setInterval(interrupt, 100) : undefined;
        child.stdout.on('data', (c: Buffer) => ((stdout += c.toString('utf8')), interrupt()));
        child.stderr.on('data', (c: Buffer) => ((stderr += c.toString('utf8')), interrupt()));
        const timer = setTimeout(() => {
          clearInterval(poll);
          child.kill('SIGKILL');
          reject(new Error(`${script} ${args.join(' ')} did not finish within ${RUN_DEADLINE_MS / 1000}s:\n${stdout}\n${stderr}`));
        }, RUN_DEADLINE_MS);
        child.on('error', (err) => {
          clearTimeout(timer);
          clearInterval(poll);
          reject(err);
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          clearInterval(poll);
          resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
        });
      });
    },
    async fakeServer(options = {}) {
      const server = await startFakeApiServer({ ...options, seed: READY_CLUSTER });
      servers.push(server);
      const kubeconfig = path.join(dir, `kubeconfig-${path.basename(server.url.replace(/[:/]/g, '-'))}`);
      server.writeKubeconfig(kubeconfig);
      return { server, kubeconfig };
    },
    async stopServers() {
      for (const server of servers.splice(0).reverse()) await server.close();
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
