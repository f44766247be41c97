// An abandoned real node: what a killed session leaves when its starter and reaper died at once
// (a terminal closed, a CI job cancelled, the machine's session ended) — the network namespace
// and veth, the mounts under the plane's folder, the kubelet's kernel settings, the folder
// itself, perhaps containerd shims and the pods they kept. Nothing of it runs any more, so the
// user is not asked to clean up by hand: the next start, `npm run controlplane -- stop` and
// `down --purge` find the node's records in the plane folders and sweep them.
//
// A node counts as abandoned only when no process holds it: none in its network namespace
// (containerd shims aside: they outlive containerd and are killed by the sweep), none naming a
// plane folder that holds a node record (etcd, the API server, the kubelet... all take files of
// that folder as arguments), no live starter recorded in a record, and no live process in the
// recorded (detached) plane's state. Anything else is a node that runs, which is never touched:
// a sweep would delete its network and kill its pods (they share one cgroup).
//
// judgeExistingNode is the pure decision; gatherNodeFacts reads the host; recoverAbandonedNode
// does both and the sweep.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { changedSysctls, hostMountPoints, killAll, mountsUnder, processesWith, processStartTime, readSysctls } from './host.ts';
import type { RealNodeRecord } from './index.ts';
import { HOST_VETH, KUBELET_SYSCTLS, NETNS } from './layout.ts';
import { isPlaneRegistry } from '../registry.ts';
import { destroyNetwork, networkExists, nodeNetnsNames } from './network.ts';

/** A process with its command line (NUL-separated arguments joined by spaces). */
export interface SeenProcess {
  pid: number;
  cmdline: string;
}

/** A plane folder holding a node record (<dir>/node/record.json). */
export interface PlaneFacts {
  dir: string;
  /** Live processes whose command line names a file of the folder. */
  processes: SeenProcess[];
  /** The process that started the plane, when the record names it and it still runs. */
  liveStarter?: number;
}

export interface NodeFacts {
  /** The node's network (namespace or host veth), as networkExists() words it; undefined when absent. */
  network?: string;
  /** Processes in the node's network namespace (`ip netns pids`). */
  netnsProcesses: SeenProcess[];
  planes: PlaneFacts[];
  /** The recorded (detached) plane's processes still alive, with its folder. */
  recorded?: { dir: string; alive: { name: string; pid: number }[] };
}

export type NodeVerdict =
  /** Nothing of a node is on the host. */
  | { state: 'none' }
  /** A node runs: who holds it, one phrase each. */
  | { state: 'live'; holders: string[] }
  /** Nothing runs: the plane folders to sweep (may be none: then only the network is left). */
  | { state: 'abandoned'; planes: string[]; network?: string };

/** The program's name from a command line (its first argument's base name). Pure. */
export function programOf(cmdline: string): string {
  return basename(cmdline.trim().split(' ')[0] ?? '') || '?';
}

/** A containerd shim keeps running after containerd ends; the sweep ends it, so it holds nothing. Pure. */
export function isShim(p: SeenProcess): boolean {
  return programOf(p.cmdline).startsWith('containerd-shim');
}

/** A plane's registry holds no node either: the sweep of its plane ends it (registry.ts). Pure. */
export function isSweptWithPlane(p: SeenProcess): boolean {
  return isShim(p) || isPlaneRegistry(p.cmdline);
}

/** Whether the node on this host is absent, running, or abandoned (and what to sweep). Pure. */
export function judgeExistingNode(facts: NodeFacts): NodeVerdict {
  if (!facts.network && facts.planes.length === 0) return { state: 'none' };
  const holders: string[] = [];
  for (const p of facts.netnsProcesses.filter((p) => !isShim(p))) holders.push(`${programOf(p.cmdline)} (pid ${p.pid}) in network namespace ${NETNS}`);
  for (const plane of facts.planes) {
    for (const p of plane.processes.filter((p) => !isSweptWithPlane(p))) holders.push(`${programOf(p.cmdline)} (pid ${p.pid}) of ${plane.dir}`);
    if (plane.liveStarter !== undefined) holders.push(`the process that started ${plane.dir} (pid ${plane.liveStarter})`);
  }
  if (facts.recorded) for (const p of facts.recorded.alive) holders.push(`${p.name} (pid ${p.pid}) of the recorded plane ${facts.recorded.dir}`);
  // One process may be found twice (in the namespace and by its folder): name it once.
  const pidOf = (h: string) => /\(pid (\d+)\)/.exec(h)?.[1] ?? h;
  const unique = holders.filter((h, i) => holders.findIndex((o) => pidOf(o) === pidOf(h)) === i);
  if (unique.length) return { state: 'live', holders: unique };
  return { state: 'abandoned', planes: facts.planes.map((p) => p.dir), network: facts.network };
}

// ---- reading the host ----------------------------------------------------------------------

const RECORD = join('node', 'record.json');

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
}

function seen(pids: number[]): SeenProcess[] {
  return pids.flatMap((pid) => {
    const cmdline = cmdlineOf(pid);
    return cmdline === undefined ? [] : [{ pid, cmdline }];
  });
}

/** Plane folders (todo-deploy-cp-* under the temporary folder) that hold a node record. */
export function planeFoldersWithRecords(base = tmpdir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(base);
  } catch {
    return [];
  }
  return entries.filter((e) => e.startsWith('todo-deploy-cp-') && existsSync(join(base, e, RECORD))).map((e) => join(base, e));
}

function readRecord(dir: string): RealNodeRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, RECORD), 'utf8')) as RealNodeRecord;
  } catch {
    return undefined;
  }
}

function starterAlive(record: RealNodeRecord | undefined): number | undefined {
  const starter = record?.starter;
  if (!starter) return undefined;
  // A pid is reused in time: the same pid with another start time is another process.
  return processStartTime(starter.pid) === starter.startTime ? starter.pid : undefined;
}

/** The facts judgeExistingNode needs; `recorded` comes from the caller (lib/controlplane/state.ts). */
export function gatherNodeFacts(recorded?: NodeFacts['recorded'], base = tmpdir()): NodeFacts {
  const network = anyNodeNetwork();
  const dirs = planeFoldersWithRecords(base);
  if (!network && dirs.length === 0) return { netnsProcesses: [], planes: [], recorded };
  return {
    network,
    netnsProcesses: network ? seen(netnsPids()) : [],
    planes: dirs.map((dir) => ({ dir, processes: seen(processesWith(`${dir}/`)), liveStarter: starterAlive(readRecord(dir)) })),
    recorded,
  };
}

// ---- the recovery ------------------------------------------------------------------------------

export interface Recovery {
  verdict: NodeVerdict;
  /** One line saying what was removed and from where (when something was). */
  line?: string;
  /** What the sweep could not remove. */
  left: string[];
}

/** What a sweep of this record is about to remove, in words (read before it runs). */
function describeRecord(record: RealNodeRecord, network: string | undefined): string {
  const mounts = mountsUnder(hostMountPoints(), record.dir).length;
  const shims = processesWith('containerd-shim', record.containerdSocket).length;
  const settings = changedSysctls(record.sysctls, readSysctls(Object.keys(record.sysctls)));
  return [
    network ? `${network} with veth ${HOST_VETH}` : '',
    `${mounts} mount${mounts === 1 ? '' : 's'}`,
    shims ? `${shims} containerd shim${shims === 1 ? '' : 's'} and the pods they kept` : '',
    settings.length ? `kernel settings put back (${settings.map((k) => k.replaceAll('/', '.')).join(', ')})` : 'kernel settings were as before',
  ]
    .filter((p) => p !== '')
    .join(', ');
}

/**
 * Finds an abandoned node and sweeps it: each plane folder's record (sweepRealNode, then the
 * folder), then, when no record named the network, the network alone (the kernel settings then
 * cannot be checked: their values before the node are in the record). A live node is left alone.
 * `removePlaneDir` is the control plane's (sweep, then the folder), passed in to keep this
 * module below it.
 */
export function recoverAbandonedNode(removePlaneDir: (dir: string, node?: RealNodeRecord) => string[], recorded?: NodeFacts['recorded'], base = tmpdir()): Recovery {
  const verdict = judgeExistingNode(gatherNodeFacts(recorded, base));
  if (verdict.state !== 'abandoned') return { verdict, left: [] };
  const done: string[] = [];
  const left: string[] = [];
  for (const dir of verdict.planes) {
    const record = readRecord(dir);
    if (!record) {
      left.push(`${join(dir, RECORD)} unreadable`);
      continue;
    }
    const what = describeRecord(record, networkExists());
    left.push(...removePlaneDir(dir, record));
    done.push(`${what}, folder ${dir}`);
  }
  const network = anyNodeNetwork();
  if (network) {
    // No record named this network: only our nodes use these namespaces' names, so the shims in
    // them are ours; /run/netns itself is kept (whether the node made it is in the record).
    const shims = seen(netnsPids()).filter(isShim).map((p) => p.pid);
    killAll(shims);
    // Further nodes first: they hang off the first node's namespace.
    for (const name of nodeNetnsNames()) left.push(...destroyNetwork({ runNetnsExisted: true, runNetnsWasMount: true }, name));
    if (networkExists()) left.push(...destroyNetwork({ runNetnsExisted: true, runNetnsWasMount: true }));
    done.push(`${network} with veth ${HOST_VETH}${shims.length ? ` and ${shims.length} containerd shim(s)` : ''}, found with no record of the node, so its kernel settings (${KUBELET_SYSCTLS.map((k) => k.replaceAll('/', '.')).join(', ')}) could not be checked`);
  }
  const line = done.length ? `real node: removed an abandoned node (nothing of it ran any more): ${done.join('; ')}` : undefined;
  return { verdict, line, left };
}

/** The first node's network, else a further node's namespace, as networkExists() words it. */
function anyNodeNetwork(): string | undefined {
  return networkExists() ?? nodeNetnsNames().map((name) => networkExists(name)).find(Boolean);
}

/** Pids in the nodes' network namespaces (not our own). */
function netnsPids(): number[] {
  const names = [...new Set([NETNS, ...nodeNetnsNames()])];
  return names.flatMap((name) => {
    const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
    return (r.stdout ?? '').split('\n').map((l) => Number(l.trim())).filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
  });
}
