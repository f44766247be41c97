// Runs one of the project's npm scripts the way a person does (`npm run -s up -- ...`), in
// its own process group, and returns its exit code and everything it printed. A run that
// outlives its deadline is killed, group and all, and reported as such.

import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../lib/repo-root.ts';

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  ms: number;
  timedOut: boolean;
}

/** `onOutput` sees everything printed so far each time more arrives (to act while the run waits). */
export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, deadlineMs = 300_000, onOutput?: (soFar: string) => void): Promise<ScriptResult> {
  return startScript(script, args, env, deadlineMs, { onOutput }).done;
}

export interface RunningScript {
  pid: number;
  /** Everything printed so far. */
  output(): string;
  /** Sends a signal to the script's whole process group (npm and the command under it), as a terminal's Ctrl-C does. */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the output so far satisfies `ready` (checked on every chunk printed); rejects after `ms` or when the script ends first. */
  until(ready: (output: string) => boolean, ms: number): Promise<void>;
  done: Promise<ScriptResult>;
}

/**
 * Starts a script and returns at once, so a test can act while it runs (signal it, restart a
 * component). With `direct`, the command runs without npm in front of it (node and the launcher
 * behind `npm run`), so a signal reaches the command alone, as it does from a terminal where npm
 * passes it on.
 */
export function startScript(script: string, args: string[], env: NodeJS.ProcessEnv, deadlineMs = 300_000, options: { direct?: boolean; onOutput?: (soFar: string) => void } = {}): RunningScript {
  const started = Date.now();
  const [command, argv] = options.direct ? [process.execPath, ['scripts/bundle/todo-deploy.mjs', script, ...args]] : ['npm', ['run', '-s', script, '--', ...args]];
  const child = spawn(command, argv, {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let timedOut = false;
  const waiters = new Set<() => void>();
  const take = (d: Buffer) => {
    output += d;
    options.onOutput?.(output);
    for (const check of [...waiters]) check();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill('SIGKILL');
  }, deadlineMs);
  const done = new Promise<ScriptResult>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: Date.now() - started, timedOut });
    });
  });
  const until = (ready: (output: string) => boolean, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const stop = (err?: Error) => {
        waiters.delete(check);
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        if (ready(output)) stop();
      };
      const timer = setTimeout(() => stop(new Error(`the output did not get there within ${ms} ms:\n${output}`)), ms);
      waiters.add(check);
      void done.then(() => waiters.has(check) && stop(new Error(`the script ended first:\n${output}`)));
      check();
    });
  return { pid: child.pid!, output: () => output, signal: kill, until, done };
}

/** A line of a JavaScript stack trace ("    at fn (file.ts:1:2)"). */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** The output with a heading, for assertion messages. */
export function show(r: ScriptResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' after its deadline' : ''} in ${r.ms} ms; output:\n${r.output}`;
}
