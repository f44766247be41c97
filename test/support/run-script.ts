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
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '-s', script, '--', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let timedOut = false;
    const more = (d: Buffer) => {
      output += d;
      onOutput?.(output);
    };
    child.stdout.on('data', more);
    child.stderr.on('data', more);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, deadlineMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, ms: Date.now() - started, timedOut });
    });
  });
}

/** A line of a JavaScript stack trace ("    at fn (file.ts:1:2)"). */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** The output with a heading, for assertion messages. */
export function show(r: ScriptResult): string {
  return `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}${r.timedOut ? ' after its deadline' : ''} in ${r.ms} ms; output:\n${r.output}`;
}
