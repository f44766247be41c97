// What a real node may leave on the host, read before and after: network namespaces, network
// interfaces and routes, mounts, the host's iptables rules and ipsets, the kernel settings the
// kubelet writes, the pods' cgroup, the host paths the kubelet and containerd create, and the
// node's processes (kube-router's included). The suites compare a snapshot taken before the node with one taken after it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostMountPoints, processesWith, readSysctls, cgroupHierarchies } from '../../../lib/controlplane/node/host.ts';
import { CGROUP_ROOT, DEFAULT_SHIM_SOCKET_DIR, HOST_PATHS, KUBELET_SYSCTLS } from '../../../lib/controlplane/node/layout.ts';

// The Docker engine on this shared machine may start and stop containers while a suite runs
// (other suites, other people): its veths, bridges, routes, mounts and iptables chains are not
// the node's and are left out. The node adds no host iptables rule at all.
const DOCKERS = /\b(docker0|br-[0-9a-f]{12}|DOCKER[-A-Z0-9]*)\b|\/var\/lib\/docker|\/run\/docker|\/var\/run\/docker/;

/** The IPv4 ranges of Docker's bridges (docker0, br-*), as [network, prefix length]. */
function dockerRanges(): [number, number][] {
  return out('ip', ['-o', '-4', 'addr', 'show'])
    .filter((l) => DOCKERS.test(l))
    .flatMap((l) => {
      const m = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(l);
      return m ? [[ipv4(m[1]!), Number(m[2])] as [number, number]] : [];
    });
}

function ipv4(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** True when the rule names an address in one of Docker's ranges (its published ports' NAT rules name the container, not a DOCKER chain). */
function namesDockerAddress(rule: string, ranges: [number, number][]): boolean {
  return [...rule.matchAll(/(\d+\.\d+\.\d+\.\d+)(?:\/\d+)?/g)].some(([, a]) =>
    ranges.some(([net, len]) => len > 0 && Math.floor(ipv4(a!) / 2 ** (32 - len)) === Math.floor(net / 2 ** (32 - len))),
  );
}

/** Socket paths some process listens on (/proc/net/unix). */
function listeningSockets(): Set<string> {
  return new Set(readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/)[7] ?? '').filter((p) => p.startsWith('/')));
}

export interface HostSnapshot {
  netns: string[];
  links: string[];
  routes: string[];
  mounts: string[];
  /** iptables-save of the host, without counters and comment lines. */
  iptables: string[];
  /** The host's ipsets (kube-router makes its own only inside the node's namespace). */
  ipsets: string[];
  sysctls: Record<string, string>;
  /** Host paths only the node creates (/run/containerd is Docker's containerd's too: see shimSockets). */
  paths: string[];
  /** Sockets in containerd's shared shim folder that nothing listens on (a killed shim of ours would leave one). */
  staleShimSockets: string[];
  cgroups: string[];
  /** Processes of a node: kubelet, kube-proxy, containerd and its shims. */
  nodeProcesses: string[];
}

/** `ipset list -n` of the host; none when ipset is not installed (then nothing can have made one). */
function hostIpsets(): string[] {
  const r = spawnSync('ipset', ['list', '-n'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter((l) => l.trim() !== '').sort() : [];
}

const out = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).split('\n').filter((l) => l.trim() !== '');

export function hostSnapshot(): HostSnapshot {
  const docker = dockerRanges();
  return {
    netns: existsSync('/run/netns') ? readdirSync('/run/netns').sort() : [],
    // Interface names only: counters and flags change by themselves.
    links: out('ip', ['-o', 'link', 'show']).filter((l) => !DOCKERS.test(l)).map((l) => l.split(':')[1]!.trim().split('@')[0]!).sort(),
    routes: out('ip', ['-4', 'route', 'show']).filter((l) => !DOCKERS.test(l)).sort(),
    mounts: hostMountPoints().filter((m) => !DOCKERS.test(m)).sort(),
    iptables: out('iptables-save', []).filter((l) => !l.startsWith('#') && !DOCKERS.test(l) && !namesDockerAddress(l, docker)).map((l) => l.replace(/\s*\[\d+:\d+\]$/, '')),
    ipsets: hostIpsets(),
    sysctls: readSysctls(KUBELET_SYSCTLS),
    paths: HOST_PATHS.filter((p) => p !== '/run/containerd' && existsSync(p)),
    staleShimSockets: existsSync(DEFAULT_SHIM_SOCKET_DIR) ? readdirSync(DEFAULT_SHIM_SOCKET_DIR).filter((f) => !listeningSockets().has(`${DEFAULT_SHIM_SOCKET_DIR}/${f}`)).sort() : [],
    // Every node's pods' cgroup: todo-deploy-node, and todo-deploy-node-<n> of further nodes.
    cgroups: cgroupHierarchies().flatMap((h) => (existsSync(h) ? readdirSync(h).filter((e) => e === CGROUP_ROOT || e.startsWith(`${CGROUP_ROOT}-`)).map((e) => `${h}/${e}`) : [])).sort(),
    nodeProcesses: [...processesWith('kubelet', '--hostname-override'), ...processesWith('kube-proxy', '--config'), ...processesWith('containerd', 'todo-deploy-cp-'), ...processesWith('kube-router', '--kubeconfig')].map(String),
  };
}

/** Everything that differs between two snapshots, one line each (empty: the host is as it was). */
export function hostDifferences(before: HostSnapshot, after: HostSnapshot): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(before) as (keyof HostSnapshot)[]) {
    const a = JSON.stringify(before[key]);
    const b = JSON.stringify(after[key]);
    if (a !== b) diffs.push(`${key}: before ${a}, after ${b}`);
  }
  return diffs;
}
