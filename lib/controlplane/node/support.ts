// Can a real node run on this machine, and if not, why? The facts are gathered by
// probeHost (reads only, starts nothing); judgeRealNode turns them into a verdict with
// reasons a person can act on. Pure judgement, so every verdict is unit-tested.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cgroupHierarchies } from './host.ts';

/** Host programs the node runs besides its own binaries (Debian: iproute2, util-linux, iptables, openssl). */
export const HOST_TOOLS = ['ip', 'nsenter', 'iptables', 'openssl', 'umount'] as const;
export type HostTool = (typeof HOST_TOOLS)[number];

const TOOL_PACKAGES: Record<HostTool, string> = { ip: 'iproute2', nsenter: 'util-linux', iptables: 'iptables', openssl: 'openssl', umount: 'mount' };

/** cgroup controllers the kubelet needs. */
export const CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'] as const;

export interface HostFacts {
  platform: string;
  /** Effective user id (undefined where there is none, e.g. Windows). */
  uid: number | undefined;
  cgroups: { version: 1 | 2 | undefined; controllers: string[] };
  /** Host tools that are not on PATH. */
  missingTools: HostTool[];
}

export interface RealNodeVerdict {
  possible: boolean;
  /** Why not, one sentence each (empty when possible). */
  reasons: string[];
  /** A one-line summary for doctor and for up's fallback line. */
  summary: string;
}

/** Whether a real node can run here. Pure. */
export function judgeRealNode(facts: HostFacts): RealNodeVerdict {
  const reasons: string[] = [];
  if (facts.platform !== 'linux') reasons.push(`this is ${facts.platform}, not Linux (a real node needs Linux namespaces and cgroups)`);
  else {
    if (facts.uid !== 0) reasons.push(`not running as root (uid ${facts.uid ?? 'unknown'}): the node creates a network namespace, cgroups and mounts`);
    if (facts.cgroups.version === undefined) reasons.push('no cgroup hierarchy is mounted at /sys/fs/cgroup');
    else {
      const missing = CONTROLLERS.filter((c) => !facts.cgroups.controllers.includes(c) && !(facts.cgroups.version === 2 && c === 'cpuacct'));
      if (missing.length) reasons.push(`the cgroup controllers ${missing.join(', ')} are missing (cgroup v${facts.cgroups.version})`);
    }
    if (facts.missingTools.length) {
      reasons.push(`${facts.missingTools.join(', ')} not on PATH (install the packages ${[...new Set(facts.missingTools.map((t) => TOOL_PACKAGES[t]))].join(', ')})`);
    }
  }
  const possible = reasons.length === 0;
  const summary = possible ? `Linux, root, cgroup v${facts.cgroups.version} (${facts.cgroups.controllers.filter((c) => (CONTROLLERS as readonly string[]).includes(c)).join(', ')})` : reasons.join('; ');
  return { possible, reasons, summary };
}

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function cgroupFacts(): HostFacts['cgroups'] {
  if (process.platform !== 'linux' || !existsSync('/sys/fs/cgroup')) return { version: undefined, controllers: [] };
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return { version: 2, controllers: readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').trim().split(/\s+/) };
  }
  // v1: one folder per hierarchy, named for its controllers (cpu,cpuacct) or linked per controller.
  const names = new Set<string>();
  for (const h of cgroupHierarchies()) for (const part of h.split('/').pop()!.split(',')) names.add(part);
  return { version: names.size ? 1 : undefined, controllers: [...names] };
}

/** Reads what the verdict needs from this machine. */
export function probeHost(): HostFacts {
  return {
    platform: process.platform,
    uid: process.getuid?.(),
    cgroups: cgroupFacts(),
    missingTools: process.platform === 'linux' ? HOST_TOOLS.filter((t) => !onPath(t)) : [],
  };
}

export function realNodeSupport(): RealNodeVerdict {
  return judgeRealNode(probeHost());
}
