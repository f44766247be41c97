// Running one command of a benchmark step: in its own process group (so Ctrl-C or a deadline
// ends everything it started), timed by the monotonic clock, its output kept for the report of
// a failure. Known secret values are masked in that output before anyone sees it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** GNU time: reports the peak resident set size of a command and its waited-for children. */
const GNU_TIME = '/usr/bin/time';

export interface CommandResult {
  /** The command as shown in reports (tool name, not its cache path). */
  display: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** stdout and stderr interleaved, secret values masked. */
  output: string;
  timedOut: boolean;
  /** Peak resident set size of the command (the largest of its processes), KiB; undefined without GNU time. */
  maxRssKiB?: number;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  deadlineMs?: number;
  /** Values to mask in the output (the benchmark's test secrets). */
  secrets?: readonly string[];
  /** Text to replace in the output and the displayed command, e.g. the temporary folder's path -> "<tmp>". */
  replace?: readonly (readonly [string, string])[];
  /** Shown instead of the program's path, e.g. "kubectl". */
  name?: string;
  /** Measure the peak RSS with GNU time (/usr/bin/time, Debian's `time` package), when it is there. */
  maxRss?: boolean;
}

const running = new Set<ChildProcess>();

/** Ends every command still running (Ctrl-C, a failure elsewhere), group and all. */
export function killRunning(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of running) {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  }
}

/** Replaces each secret value in text with [redacted], then each `from` with its `to`. Pure. */
export function mask(text: string, secrets: readonly string[] = [], replace: readonly (readonly [string, string])[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  for (const [from, to] of replace) if (from.length > 0) out = out.split(from).join(to);
  return out;
}

/** Shell-like display of a command line. Pure. */
export function displayCommand(name: string, args: readonly string[]): string {
  return [name, ...args.map((a) => (/^[\w@%+=:,./{}-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
}

export function runCommand(program: string, args: readonly string[], options: RunOptions): Promise<CommandResult> {
  const display = mask(displayCommand(options.name ?? program, args), options.secrets, options.replace);
  return new Promise((resolve, reject) => {
    const rssFile = options.maxRss && existsSync(GNU_TIME) ? path.join(os.tmpdir(), `bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`) : undefined;
    const [command, argv] = rssFile ? [GNU_TIME, ['-f', '%M', '-o', rssFile, program, ...args]] : [program, [...args]];
    const started = process.hrtime.bigint();
    const child = spawn(command, argv, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    running.add(child);
    let output = '';
    let timedOut = false;
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const timer = options.deadlineMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            // already gone
          }
        }, options.deadlineMs)
      : undefined;
    child.once('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(new Error(`could not run ${display}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      clearTimeout(timer);
      running.delete(child);
      let maxRssKiB: number | undefined;
      if (rssFile) {
        try {
          // GNU time writes "Command exited with non-zero status N" before the number on a failure.
          const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
          if (Number.isFinite(kib) && kib > 0) maxRssKiB = kib;
        } catch {
          // killed before GNU time wrote it
        }
        rmSync(rssFile, { force: true });
      }
      resolve({ display, code, signal, ms, output: mask(output, options.secrets, options.replace), timedOut, ...(maxRssKiB ? { maxRssKiB } : {}) });
    });
  });
}

/** The last lines of a command's output, for a failure message. Pure. */
export function tail(text: string, lines = 12): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
