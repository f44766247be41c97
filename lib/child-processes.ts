// The programs a run started in its own process group: docker, minikube, kind, helm (zx starts
// them without detaching). Ctrl-C at a terminal signals the whole group, but a SIGTERM sent to
// the run alone (a supervisor, `kill PID`, a CI job's timeout) reaches only the run: unless it is
// passed on, a docker build goes on after the run has said it stopped. Programs started detached
// (the sandbox's control plane, in groups of their own) are meant to outlive the run: untouched.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** A zombie has ended; only its parent's wait is left. */
  zombie: boolean;
}

/** pid, parent, process group and state from the text of /proc/<pid>/stat (pure). */
export function parseStat(text: string): ProcStat | undefined {
  // The command name sits in parentheses and may itself hold spaces and parentheses.
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const [state, ppid, pgrp] = text.slice(close + 2).split(' ');
  const stat = { pid: Number(text.slice(0, open)), ppid: Number(ppid), pgrp: Number(pgrp), zombie: state === 'Z' };
  return [stat.pid, stat.ppid, stat.pgrp].every(Number.isInteger) ? stat : undefined;
}

/**
 * The living descendants of `root` that share its process group `group`, children's children
 * included (a shell zx started, and the program under it); a descendant in a group of its own
 * is left out, with everything under it (pure).
 */
export function groupDescendants(table: readonly ProcStat[], root: number, group: number): number[] {
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of table) {
      if (p.ppid !== parent || p.pgrp !== group) continue;
      queue.push(p.pid);
      if (!p.zombie) found.push(p.pid);
    }
  }
  return found;
}

function processTable(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return []; // not Linux: the terminal's signal to the group is all there is
  }
  return entries.flatMap((e) => {
    try {
      const stat = parseStat(readFileSync(`/proc/${e}/stat`, 'utf8'));
      return stat ? [stat] : [];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** Passes `signal` on to every program this process started in its own group; returns their pids. */
export function signalChildren(signal: NodeJS.Signals): number[] {
  const table = processTable();
  const self = table.find((p) => p.pid === process.pid);
  if (!self) return [];
  const pids = groupDescendants(table, process.pid, self.pgrp);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}
