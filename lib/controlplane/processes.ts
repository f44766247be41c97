// Starting and ending the control plane's programs. Each runs in its own process group
// (so a signal reaches anything it forks) with its output in a log file. A small reaper
// process holds a pipe from us: if we die in any way, even by SIGKILL, the pipe closes and
// the reaper kills every group we registered and removes the folder.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Component {
  name: string;
  proc: ChildProcess;
  pid: number;
  logFile: string;
  /** Resolves when the process has exited, with a line saying how. */
  exited: Promise<string>;
}

/** The environment for the programs: ours, minus anything that could point them elsewhere. */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^(KUBECONFIG|ETCD_.*|(HTTPS?|ALL|NO)_PROXY|(https?|all|no)_proxy)$/.test(key)) continue;
    out[key] = value;
  }
  out.NO_PROXY = '127.0.0.1,localhost';
  return out;
}

export function startComponent(name: string, bin: string, args: string[], logDir: string, detached = true, env: NodeJS.ProcessEnv = process.env): Component {
  const logFile = join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], detached, env: childEnv(env) });
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ? `${name} was ended by ${signal}` : `${name} exited with code ${code}`));
    proc.once('error', (err) => resolve(`${name} could not run: ${err.message}`));
  });
  return { name, proc, pid: proc.pid, logFile, exited };
}

/** The last lines of a component's log, for error messages. */
export function logTail(logFile: string, lines = 25): string {
  if (!existsSync(logFile)) return '(no log)';
  const all = readFileSync(logFile, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * True while the process runs. A zombie (ended, not yet reaped) counts as ended: a detached
 * program's parent is PID 1 once its starter has exited, and not every PID 1 reaps promptly.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ...": the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true; // no /proc (not Linux): the signal check above is all there is
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * How long a plane's programs get to end on SIGTERM when the plane is torn down: its store is
 * thrown away, so a graceful end buys nothing (kube-apiserver alone would take 10 s).
 */
export const TEARDOWN_GRACE_MS = 3_000;

/** SIGTERM to the component's group, SIGKILL if it has not exited within graceMs. */
export async function stopComponent(c: Component, graceMs = 10_000): Promise<void> {
  if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
    killGroup(c.pid, 'SIGKILL'); // anything it left behind in its group
    return;
  }
  killGroup(c.pid, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const result = await Promise.race([c.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    killGroup(c.pid, 'SIGKILL');
    await c.exited;
  }
  killGroup(c.pid, 'SIGKILL');
}

/**
 * Stops process groups that are not our children (the CLI's `stop`, which runs in a later
 * process): SIGTERM, then poll until gone (no exit event exists for a non-child), SIGKILL
 * after graceMs.
 */
export async function stopPids(pids: number[], graceMs = 10_000): Promise<void> {
  for (const pid of pids) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const pid of pids) killGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (pids.some(isAlive) && Date.now() < killDeadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The reaper reads "pid N", "run {argv, cwd}" (JSON) and "dir PATH" lines; "done" means a clean stop
// happened and it must do nothing. End of input without "done" means we died: kill, run the
// clean-up commands (the real node's sweep, which unmounts before anything is removed), and
// remove the folders.
const REAPER_SOURCE = `
const { rmSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const pids = []; const runs = []; const dirs = []; let done = false; let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line === 'done') done = true;
    else if (line.startsWith('pid ')) pids.push(Number(line.slice(4)));
    else if (line.startsWith('dir ')) dirs.push(line.slice(4));
    else if (line.startsWith('run ')) runs.push(JSON.parse(line.slice(4)));
  }
});
process.stdin.on('end', () => {
  if (done) return;
  for (const pid of pids) { try { process.kill(-pid, 'SIGKILL'); } catch {} }
  for (const r of runs) { try { spawnSync(r.argv[0], r.argv.slice(1), { stdio: 'ignore', cwd: r.cwd }); } catch {} }
  for (const dir of dirs) { try { rmSync(dir, { recursive: true, force: true }); } catch {} }
});
`;

export interface Reaper {
  track(pid: number): void;
  /** A command to run (synchronously, in order) after the processes are killed and before the folders are removed. */
  trackRun(command: { argv: string[]; cwd: string }): void;
  trackDir(dir: string): void;
  /** A clean stop finished: the reaper exits without touching anything. */
  release(): void;
}

export function startReaper(): Reaper {
  const proc = spawn(process.execPath, ['-e', REAPER_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  proc.unref();
  const stdin = proc.stdin!;
  // The pipe must not keep our event loop alive: it exists only to close when we die.
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => {});
  return {
    track: (pid) => stdin.write(`pid ${pid}\n`),
    trackRun: (command) => stdin.write(`run ${JSON.stringify(command)}\n`),
    trackDir: (dir) => stdin.write(`dir ${dir}\n`),
    release: () => {
      stdin.end('done\n');
    },
  };
}
