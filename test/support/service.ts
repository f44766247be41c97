// Runs one of the apps as a real process, the way its image does (`node dist/server.js`
// in the app folder), with a clean environment, a free port, and its stdout/stderr kept
// as lines so tests can wait on a log line (an event) instead of sleeping.
//
// Any process still running when the test process exits is killed.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../lib/free-port.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import { newestMtime } from '../prepare.ts';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Service {
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly proc: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /**
   * Resolves with the first stdout line that matches, among the lines from index
   * `fromLine` on (default 0: lines already seen count too) and those still to come.
   */
  waitForLine(match: RegExp | ((line: string) => boolean), timeoutMs?: number, fromLine?: number): Promise<string>;
  /** Stdout lines parsed as JSON (lines that are not JSON are skipped). */
  jsonLines(): Record<string, unknown>[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Sends a signal (default SIGTERM) and waits for the exit; SIGKILL after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

export interface ServiceOptions {
  /** For messages only, e.g. "backend". */
  name: string;
  /** The app folder, e.g. apps/backend (relative to the repo root or absolute). */
  appDir: string;
  /** Environment for the process on top of PATH/HOME/LANG; PORT is set unless given. */
  env?: Record<string, string | undefined>;
  /** The stdout line that says the server listens (default: a JSON line with "msg":"listening"). */
  readyLine?: RegExp;
  timeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** Refuses to test a missing or stale build: the tests must run what ships. */
export function assertBuilt(appDir: string): string {
  const dir = resolve(REPO_ROOT, appDir);
  const entry = join(dir, 'dist', 'server.js');
  const src = join(dir, 'src');
  if (!existsSync(entry)) {
    throw new Error(`${entry} does not exist: build the app first (npm --prefix ${appDir} run build).`);
  }
  if (existsSync(src) && newestMtime(src) > newestMtime(join(dir, 'dist'))) {
    throw new Error(`${join(dir, 'dist')} is older than ${src}: rebuild the app (npm --prefix ${appDir} run build).`);
  }
  return entry;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const dir = resolve(REPO_ROOT, options.appDir);
  const entry = assertBuilt(options.appDir);
  const port = options.env?.PORT ? Number(options.env.PORT) : await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    NODE_ENV: 'production',
    PORT: String(port),
  };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value !== undefined) env[key] = value;
  }

  const proc = spawn(process.execPath, [entry], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  const lines: string[] = [];
  let stderr = '';
  const waiters = new Set<(line: string) => void>();
  let partial = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of [...waiters]) waiter(line);
    }
  });
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<Exit>((resolveExit) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      resolveExit({ code, signal });
    });
  });

  const describe = () =>
    `${options.name} output:\n${lines.slice(-20).join('\n')}\n${stderr.slice(-2000)}`;

  const waitForLine = (match: RegExp | ((line: string) => boolean), waitMs = timeoutMs, fromLine = 0): Promise<string> => {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    const seen = lines.slice(fromLine).find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      const waiter = (line: string) => {
        if (!test(line)) return;
        cleanup();
        resolveLine(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${options.name}: no log line matching ${match} within ${waitMs} ms. ${describe()}`));
      }, waitMs);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        reject(new Error(`${options.name} exited (code ${code}, signal ${signal}) before logging ${match}. ${describe()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
        proc.off('exit', onExit);
      };
      waiters.add(waiter);
      proc.once('exit', onExit);
    });
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM', waitMs = 10_000): Promise<Exit> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    const hard = setTimeout(() => proc.kill('SIGKILL'), waitMs);
    proc.kill(signal);
    const result = await exited;
    clearTimeout(hard);
    return result;
  };

  try {
    await waitForLine(options.readyLine ?? /"msg":"listening"/);
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }

  return {
    name: options.name,
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    lines,
    stderr: () => stderr,
    waitForLine,
    jsonLines: () =>
      lines.flatMap((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return value && typeof value === 'object' ? [value as Record<string, unknown>] : [];
        } catch {
          return [];
        }
      }),
    exited,
    stop,
  };
}
