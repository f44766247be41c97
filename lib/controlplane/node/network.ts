// The nodes' network: a network namespace each, so every node has a real (non-loopback)
// address. The first node's is joined to the host by a veth pair, and the host routes the pod
// and Service ranges through it, so the app is reachable from the host; every further node's
// is joined to the first node's namespace, which routes its pods' range to it (layout.ts says
// why not to the host). Nothing is added to the host's iptables; kube-proxy's and the CNI
// plugins' rules live in the namespaces and go with them.
// The commands are pure lists (unit-tested); running them is the only I/O here.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { POD_CIDR, SERVICE_CIDR } from '../config.ts';
import { isMountPoint } from './host.ts';
import { HOST_ADDRESS, HOST_VETH, MAX_REAL_NODES, NETNS, netnsPath, NODE_ADDRESS, NODE_SUBNET_PREFIX, NODE_VETH, nodeIdentity, nodeIndexOfNetns, type NodeIdentity } from './layout.ts';

/** Runs a command inside the node's network namespace only (kubelet and containerd must share the host's mount namespace). */
export function inNetns(argv: string[], name = NETNS): string[] {
  return ['nsenter', `--net=${netnsPath(name)}`, '--', ...argv];
}

/** Commands that build a node's network, in order: the first node's (`name` its namespace) or, given an identity of index 1 or more, a further node's. Pure. */
export function networkUpCommands(node: string | NodeIdentity = NETNS): string[][] {
  if (typeof node !== 'string' && node.index > 0) return furtherNodeCommands(node);
  const name = typeof node === 'string' ? node : node.netns;
  const ns = (...argv: string[]) => inNetns(argv, name);
  return [
    ['ip', 'netns', 'add', name],
    ['ip', 'link', 'add', HOST_VETH, 'type', 'veth', 'peer', 'name', NODE_VETH, 'netns', name],
    ['ip', 'addr', 'add', `${HOST_ADDRESS}/${NODE_SUBNET_PREFIX}`, 'dev', HOST_VETH],
    ['ip', 'link', 'set', HOST_VETH, 'up'],
    ns('ip', 'link', 'set', 'lo', 'up'),
    ns('ip', 'addr', 'add', `${NODE_ADDRESS}/${NODE_SUBNET_PREFIX}`, 'dev', NODE_VETH),
    ns('ip', 'link', 'set', NODE_VETH, 'up'),
    ns('ip', 'route', 'add', 'default', 'via', HOST_ADDRESS),
    // The namespace forwards between the pods' bridge and the veth; this setting belongs to
    // the namespace, not the host.
    ns('sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'),
    // Bridged pod traffic must pass kube-proxy's iptables rules (a pod reaching a Service
    // whose endpoint is on the same bridge); per namespace on current kernels.
    ns('sh', '-c', 'f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 1 > $f'),
    ['ip', 'route', 'add', POD_CIDR, 'via', NODE_ADDRESS, 'dev', HOST_VETH],
    ['ip', 'route', 'add', SERVICE_CIDR, 'via', NODE_ADDRESS, 'dev', HOST_VETH],
  ];
}

/**
 * A further node: its namespace, a veth pair from the first node's namespace (where its end
 * gets the link's first address and a route to the node's pods), the node's default route back
 * across it, and a host route to the link, so the API server reaches its kubelet. Pure.
 */
function furtherNodeCommands(node: NodeIdentity): string[][] {
  const first = nodeIdentity(0);
  const up = (...argv: string[]) => inNetns(argv, first.netns);
  const ns = (...argv: string[]) => inNetns(argv, node.netns);
  return [
    ['ip', 'netns', 'add', node.netns],
    up('ip', 'link', 'add', node.upstreamVeth, 'type', 'veth', 'peer', 'name', NODE_VETH, 'netns', node.netns),
    up('ip', 'addr', 'add', `${node.gateway}/${NODE_SUBNET_PREFIX}`, 'dev', node.upstreamVeth),
    up('ip', 'link', 'set', node.upstreamVeth, 'up'),
    ns('ip', 'link', 'set', 'lo', 'up'),
    ns('ip', 'addr', 'add', `${node.address}/${NODE_SUBNET_PREFIX}`, 'dev', NODE_VETH),
    ns('ip', 'link', 'set', NODE_VETH, 'up'),
    ns('ip', 'route', 'add', 'default', 'via', node.gateway),
    ns('sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'),
    ns('sh', '-c', 'f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 1 > $f'),
    // The host already routes the whole pod range to the first node; from there, this node's part.
    up('ip', 'route', 'add', node.podCidr, 'via', node.address, 'dev', node.upstreamVeth),
    ...hostRoutesOf(node).map((r) => ['ip', 'route', 'add', ...r.split(' ')]),
  ];
}

/** Routes a further node adds to the host (as `ip route` words), removed with it. Pure. */
export function hostRoutesOf(node: NodeIdentity): string[] {
  return node.index === 0 ? [] : [`${node.linkSubnet} via ${NODE_ADDRESS} dev ${HOST_VETH}`];
}

export interface NetworkBefore {
  /** /run/netns existed before the node: else it is removed with the node. */
  runNetnsExisted: boolean;
  /** /run/netns was a mount point before (`ip netns add` makes it one): else it is unmounted. */
  runNetnsWasMount: boolean;
}

export function networkBefore(): NetworkBefore {
  return { runNetnsExisted: existsSync('/run/netns'), runNetnsWasMount: isMountPoint('/run/netns') };
}

function run(argv: string[]): { ok: boolean; output: string } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** True when a network namespace or the host veth of a node already exists (the first node's unless named). */
export function networkExists(name = NETNS): string | undefined {
  if (existsSync(netnsPath(name))) return `network namespace ${name} (${netnsPath(name)})`;
  if (name === NETNS && run(['ip', 'link', 'show', HOST_VETH]).ok) return `network interface ${HOST_VETH}`;
  return undefined;
}

/** The network namespaces of real nodes on this host (todo-deploy-node, todo-deploy-node-<n>), further nodes first. */
export function nodeNetnsNames(): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  return names.filter((n) => nodeIndexOfNetns(n) !== undefined).sort((a, b) => nodeIndexOfNetns(b)! - nodeIndexOfNetns(a)!);
}

/** The host routes the nodes would add, as `ip route` prefixes (the first node's, then `count - 1` further links). Pure. */
export function wantedHostRoutes(count = 1): string[] {
  const links = Array.from({ length: Math.min(count, MAX_REAL_NODES) }, (_, i) => nodeIdentity(i).linkSubnet);
  return [POD_CIDR, SERVICE_CIDR, ...links];
}

/** A route the nodes would add that the host already has (another network in the way). */
export function conflictingRoutes(count = 1): string[] {
  const routes = run(['ip', '-4', 'route', 'show']).output.split('\n');
  const wanted = wantedHostRoutes(count);
  return routes.filter((r) => wanted.some((w) => r.startsWith(`${w} `)));
}

/** Builds a node's network; on failure undoes what was done and throws with the failing command's output. */
export function createNetwork(node: string | NodeIdentity = NETNS): void {
  const name = typeof node === 'string' ? node : node.netns;
  for (const argv of networkUpCommands(node)) {
    const r = run(argv);
    if (!r.ok) {
      destroyNetwork({ runNetnsExisted: true, runNetnsWasMount: true }, name);
      throw new Error(`Setting up the real node's network failed at \`${argv.join(' ')}\`: ${r.output || 'no output'}`);
    }
  }
}

/**
 * Removes the namespace (which takes the veth pair, the host routes through it, the pods'
 * bridge and every iptables rule inside with it) and /run/netns when the node made it.
 * Returns what could not be removed.
 */
export function destroyNetwork(before: NetworkBefore, name = NETNS): string[] {
  const left: string[] = [];
  if (existsSync(netnsPath(name))) {
    const r = run(['ip', 'netns', 'delete', name]);
    if (!r.ok && existsSync(netnsPath(name))) left.push(`network namespace ${name}: ${r.output}`);
  }
  const index = nodeIndexOfNetns(name);
  if (index !== undefined && index > 0) {
    // A further node: its veth pair went with its namespace; the host route to its link goes
    // with the first node's veth, unless that is gone already.
    for (const route of hostRoutesOf(nodeIdentity(index))) {
      const prefix = route.split(' ')[0]!;
      if (run(['ip', '-4', 'route', 'show', prefix]).output.trim() !== '') run(['ip', 'route', 'del', prefix]);
    }
    return left;
  }
  // Normally gone with the namespace; a veth whose peer is held elsewhere is deleted here.
  if (run(['ip', 'link', 'show', HOST_VETH]).ok) {
    const r = run(['ip', 'link', 'delete', HOST_VETH]);
    // The kernel may finish removing it with the namespace meanwhile.
    if (!r.ok && run(['ip', 'link', 'show', HOST_VETH]).ok) left.push(`interface ${HOST_VETH}: ${r.output}`);
  }
  const empty = existsSync('/run/netns') && readdirSync('/run/netns').length === 0;
  // `ip netns add` bind-mounts /run/netns on itself (more than once if raced): undo each.
  for (let i = 0; i < 5 && empty && !before.runNetnsWasMount && isMountPoint('/run/netns'); i++) run(['umount', '/run/netns']);
  if (empty && !before.runNetnsExisted && !isMountPoint('/run/netns')) {
    try {
      rmdirSync('/run/netns');
    } catch {
      // someone else's namespace appeared meanwhile
    }
  }
  return left;
}
