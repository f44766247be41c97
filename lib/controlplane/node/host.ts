// What the real node touches on the host outside its own folder, and how it is put back:
// kernel settings the kubelet rewrites, paths it creates, mounts under the node's folder,
// the cgroup all pods live in, and processes found by their command line. Synchronous on
// purpose: the same sweep runs from an exit hook, where nothing asynchronous gets to run.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, rmdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

// ---- kernel settings -------------------------------------------------------------------

/** Current values of /proc/sys/<key> for each key that exists. */
export function readSysctls(keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    try {
      out[key] = readFileSync(`/proc/sys/${key}`, 'utf8').trim();
    } catch {
      // not on this kernel
    }
  }
  return out;
}

/** The keys whose value now differs from the snapshot. Pure. */
export function changedSysctls(before: Record<string, string>, now: Record<string, string>): string[] {
  return Object.keys(before).filter((k) => now[k] !== undefined && now[k] !== before[k]);
}

/** Writes back every setting that differs from the snapshot; returns what was restored ("key a -> b"). */
export function restoreSysctls(snapshot: Record<string, string>): string[] {
  const now = readSysctls(Object.keys(snapshot));
  const restored: string[] = [];
  for (const key of changedSysctls(snapshot, now)) {
    writeFileSync(`/proc/sys/${key}`, `${snapshot[key]}\n`);
    restored.push(`${key.replaceAll('/', '.')} ${now[key]} -> ${snapshot[key]}`);
  }
  return restored;
}

// ---- paths ----------------------------------------------------------------------------------

/** The paths among these that do not exist now (the node may create them; it removes them later). */
export function absentPaths(paths: string[]): string[] {
  return paths.filter((p) => !existsSync(p));
}

// ---- mounts ---------------------------------------------------------------------------------

/** Mount points listed in a /proc/<pid>/mountinfo text, octal escapes decoded. Pure. */
export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((p) => p !== '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

/** Mount points at or under a folder, deepest first (the order to unmount them in). Pure. */
export function mountsUnder(points: string[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const hits = points.filter((p) => p === dir || p.startsWith(prefix));
  return [...new Set(hits)].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

export function hostMountPoints(): string[] {
  return parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Unmounts everything at or under dir (stacked mounts included); returns what is still mounted. */
export function unmountUnder(dir: string): string[] {
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(hostMountPoints(), dir);
    if (points.length === 0) return [];
    for (const p of points) {
      const r = spawnSync('umount', [p], { stdio: 'ignore' });
      if (r.status !== 0) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
    }
  }
  return mountsUnder(hostMountPoints(), dir);
}

export function isMountPoint(path: string): boolean {
  return hostMountPoints().includes(path);
}

// ---- cgroups --------------------------------------------------------------------------------

/** Folders of the mounted cgroup hierarchies (each v1 controller once, or the v2 root). */
export function cgroupHierarchies(base = '/sys/fs/cgroup'): string[] {
  if (!existsSync(base)) return [];
  if (existsSync(join(base, 'cgroup.controllers'))) return [base];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of readdirSync(base)) {
    const dir = join(base, entry);
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory() || !existsSync(join(real, 'cgroup.procs'))) continue;
    } catch {
      continue;
    }
    // cpu and cpuacct are often one hierarchy with two links; the v1 "unified" and
    // "systemd" named hierarchies hold no controller the kubelet uses but are harmless.
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(real);
  }
  return out;
}

/**
 * Creates the pods' parent cgroup in every hierarchy (the kubelet refuses a cgroupRoot that
 * does not exist). A v1 cpuset child starts with no CPUs or memory nodes: copy the parent's.
 */
export function createCgroupRoot(name: string): void {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, name);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const mine = join(dir, file);
      if (existsSync(mine) && readFileSync(mine, 'utf8').trim() === '') writeFileSync(mine, readFileSync(join(h, file), 'utf8'));
    }
  }
}

/** Folders of a cgroup and its descendants in one hierarchy, deepest first. */
function cgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...cgroupTree(join(dir, entry.name)));
  }
  out.push(dir);
  return out;
}

/** Every process in the named cgroup or below, in any hierarchy. */
export function cgroupProcesses(name: string): number[] {
  const pids = new Set<number>();
  for (const h of cgroupHierarchies()) {
    for (const dir of cgroupTree(join(h, name))) {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
      } catch {
        // removed meanwhile
      }
    }
  }
  return [...pids];
}

/** Kills every process under the cgroup (until none is left), then removes its folders; returns the folders left. */
export function removeCgroupRoot(name: string): string[] {
  for (let round = 0; round < 50; round++) {
    const pids = cgroupProcesses(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    spawnSync('sleep', ['0.1']);
  }
  const left: string[] = [];
  for (const h of cgroupHierarchies()) {
    for (const dir of cgroupTree(join(h, name))) {
      try {
        rmdirSync(dir);
      } catch {
        // A dying process may hold it for a moment: one more try after a pause.
        spawnSync('sleep', ['0.2']);
        try {
          rmdirSync(dir);
        } catch {
          left.push(dir);
        }
      }
    }
  }
  return left;
}

// ---- processes --------------------------------------------------------------------------

/** Pids whose command line contains every one of the given strings. */
export function processesWith(...parts: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (parts.every((p) => cmdline.includes(p))) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

/** The start time of a process (/proc/<pid>/stat field 22, clock ticks since boot), or undefined when it is not running. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ppid ...": fields after the last ')' start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (/^[ZX]/.test(fields[0] ?? '')) return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function killAll(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone
    }
  }
}

export function removePath(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** True when a folder holds nothing but (possibly nested) empty folders. */
export function isEmptyTree(path: string): boolean {
  try {
    return readdirSync(path, { withFileTypes: true }).every((e) => e.isDirectory() && isEmptyTree(join(path, e.name)));
  } catch {
    return false;
  }
}

/**
 * The socket names a containerd shim uses in a shared socket folder: sha256 of
 * "<containerd address>/<namespace>/<task id>" (and ".../debug"), as containerd's shim package
 * computes them. Pure.
 */
export function shimSocketNames(containerdSocket: string, namespace: string, id: string): string[] {
  const base = join(containerdSocket, namespace, id);
  return [base, join(base, 'debug')].map((p) => createHash('sha256').update(p).digest('hex'));
}

/** Task ids by namespace under containerd's state folder (io.containerd.runtime.v2.task/<ns>/<id>). */
export function containerdTasks(stateDir: string): { namespace: string; id: string }[] {
  const root = join(stateDir, 'io.containerd.runtime.v2.task');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((namespace) => {
    try {
      return readdirSync(join(root, namespace)).map((id) => ({ namespace, id }));
    } catch {
      return [];
    }
  });
}
