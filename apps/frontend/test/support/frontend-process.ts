// Runs the frontend server as its own process, the way the container does, and waits for its
// "listening" log line rather than polling or sleeping.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER_SRC = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const START_DEADLINE_MS = 15_000;

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface FrontendProcess {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  logs: () => LogLine[];
  /** Resolves with the first log line matching, waiting for it if needed. */
  waitForLog(match: (line: LogLine) => boolean, deadlineMs?: number): Promise<LogLine>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running; for cleanup after failures. */
  kill(): Promise<void>;
}

export function spawnFrontend(env: Record<string, string>): ChildProcess {
  // tsx runs the TypeScript source directly; the real image runs the tsc output of the same code.
  return spawn(process.execPath, ['--import', 'tsx', SERVER_SRC], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

export async function startFrontend(env: Record<string, string>): Promise<FrontendProcess> {
  const child = spawnFrontend({ PORT: '0', ...env });
  let out = '';
  let err = '';
  let listeners: (() => void)[] = [];
  const notify = () => {
    const pending = listeners;
    listeners = [];
    for (const fn of pending) fn();
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; notify(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; notify(); });
  child.on('exit', notify);

  const logs = (): LogLine[] =>
    out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as LogLine);

  const waitForLog = (match: (line: LogLine) => boolean, deadlineMs = START_DEADLINE_MS) =>
    new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${deadlineMs} ms; stdout:\n${out}\nstderr:\n${err}`)), deadlineMs);
      const check = () => {
        const found = logs().find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          clearTimeout(timer);
          reject(new Error(`frontend exited (${child.exitCode ?? child.signalCode}) before the log line; stderr:\n${err}`));
        } else {
          listeners.push(check);
        }
      };
      check();
    });

  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  };

  try {
    const listening = await waitForLog((l) => l.msg === 'listening');
    return {
      url: `http://127.0.0.1:${listening.port as number}`,
      child,
      stdout: () => out,
      stderr: () => err,
      logs,
      waitForLog,
      async stop() {
        child.kill('SIGTERM');
        return exitOf(child);
      },
      kill,
    };
  } catch (e) {
    await kill();
    throw e;
  }
}
