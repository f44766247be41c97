// A throwaway copy of the repository's scripts for running them as child processes, the way
// `npm run up` runs them. The scripts find the repository root from their own location, so each
// sandbox holds a copy of lib/ and scripts/ (node_modules linked) whose env/dev.env and .env the
// test writes: the real repository's .env, if a developer has one, is never read. A run gets a
// clean environment (HOME and TMPDIR inside the sandbox), so no secret or kubeconfig of the person
// running the tests leaks in.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startFakeApiServer, type FakeApiServer } from '../fixtures/core/fake-apiserver.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
const TSX = path.join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
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
   * Runs scripts/<script> with Node and tsx and collects its output. With `tty` it runs on a
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

export function createScriptSandbox(prefix: string): ScriptSandbox {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cpSync(path.join(REPO, 'lib'), path.join(dir, 'lib'), { recursive: true });
  cpSync(path.join(REPO, 'scripts'), path.join(dir, 'scripts'), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) copyFileSync(path.join(REPO, file), path.join(dir, file));
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
        // A run that is to be interrupted runs in one process (tsx as a loader): the tsx CLI's own
        // wrapper process relays a signal and, when the child's answer is slow, kills it outright.
        const loader = options.interrupt ? ['--import', 'tsx'] : [TSX];
        const argv = [process.execPath, ...loader, path.join(dir, 'scripts', script), ...args];
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
