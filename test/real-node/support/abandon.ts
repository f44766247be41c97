// A real node abandoned as a killed session leaves it: a child process starts a plane with
// real pods (its reaper and programs each in a process group of their own), then the starter,
// the reaper and every program are SIGKILLed at once, so nothing can clean up. What stays on
// the host: the network namespace and veth, the mounts under the plane's folder, the folder
// with its node record, the containerd shims and the pods they keep.
//
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { REPO_ROOT } from '../../../lib/repo-root.ts';
import { isAlive } from '../../../lib/controlplane/processes.ts';

const CHILD = join(REPO_ROOT, 'test', 'real-node', 'support', 'abandon-child.ts');

export interface Abandoned {
  dir: string;
  /** The process groups killed: the starter, its reaper, each program. */
  killed: number[];
  /** The starter's log lines. */
  output: string;
}

/** Children of a process (by the parent pid in /proc/<pid>/stat). */
function childrenOf(parent: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
    } catch {
      return false;
    }
  });
}

/** Starts a node in a child process and kills it with its reaper and programs; resolves once all are gone. */
export async function abandonNode(deadlineMs = 300_000): Promise<Abandoned> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, TODO_DEPLOY_ABANDON_CHILD: '1' } });
  let output = '';
  // A start that fails or hangs is ended like a killed session (its plane then is an abandoned
  // one for the suite's clean-up), never left running.
  const killAll = () => {
    for (const pgid of [...childrenOf(child.pid!), child.pid!]) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killAll();
      reject(new Error(`the node to abandon did not start within ${deadlineMs / 1000} s:\n${output}`));
    }, deadlineMs);
    child.stderr.on('data', (d) => (output += d));
    child.stdout.on('data', (d) => {
      output += d;
      const m = /^READY (.+)$/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the node to abandon ended before it was up (${signal ?? code}):\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  // The starter's children first (the reaper among them: it must not see its pipe close), the
  // starter last; the reaper and every program are direct children leading their own groups.
  const groups = [...childrenOf(child.pid!), child.pid!];
  killAll();
  const until = Date.now() + 10_000;
  while (groups.some(isAlive) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const alive = groups.filter(isAlive);
  if (alive.length) throw new Error(`pids ${alive.join(', ')} outlived SIGKILL`);
  return { dir: ready, killed: groups, output };
}
