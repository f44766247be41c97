// What a set of NetworkPolicies lets through, by the API's semantics, for single flows between
// representative pods and addresses; and where that differs from the intended paths
// (paths.ts). Pure: the gate's networkpolicy/intended-paths rule and the unit tests use it.
//
// The semantics (networking.k8s.io/v1): a pod is isolated for egress (ingress) when a policy of
// its namespace selects it with that policy type; an isolated pod's traffic passes when some
// selecting policy has a rule whose peers and ports match. A flow between two pods needs both
// the caller's egress and the callee's ingress. ipBlock peers match by address, pods included
// (as Calico, Cilium and kube-router apply them).
import type { KubeObject } from '../types.ts';
import { asArray, selectorMatches, type LabelSelector } from './objects.ts';
import { ALLOWED_PATHS, COMPONENT_LABEL, componentsOf, type Endpoint, type NetworkPath, type PortSpec } from './paths.ts';

/** A pod (namespace and labels) or an address outside the cluster (no namespace). */
export interface Peer {
  /** How the gate names it in a message. */
  label: string;
  namespace?: string;
  labels: Record<string, string>;
  ip: string;
}

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function ipv4(a: string): number | undefined {
  const parts = a.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, o) => n * 256 + o, 0);
}

/** True when the IPv4 address lies in the CIDR. */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const a = ipv4(ip);
  const n = ipv4(net ?? '');
  const len = Number(bits ?? 32);
  if (a === undefined || n === undefined || !(len >= 0 && len <= 32)) return false;
  const size = 2 ** (32 - len);
  return Math.floor(a / size) === Math.floor(n / size);
}

function policyTypes(np: KubeObject): string[] {
  const spec = np.spec ?? {};
  const types = asArray(spec.policyTypes).map(String);
  if (types.length) return types;
  return spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

function peerMatches(peer: any, policyNamespace: string, target: Peer): boolean {
  if (peer?.ipBlock) {
    const cidr = String(peer.ipBlock.cidr ?? '');
    return inCidr(target.ip, cidr) && !asArray(peer.ipBlock.except).some((e) => inCidr(target.ip, String(e)));
  }
  if (target.namespace === undefined) return false;
  if (peer?.namespaceSelector !== undefined) {
    if (!selectorMatches(peer.namespaceSelector as LabelSelector, { [NAMESPACE_NAME_LABEL]: target.namespace })) return false;
  } else if (target.namespace !== policyNamespace) return false;
  return peer?.podSelector === undefined || selectorMatches(peer.podSelector as LabelSelector, target.labels);
}

function portMatches(spec: any, port: PortSpec): boolean {
  if ((spec?.protocol ?? 'TCP') !== port.protocol) return false;
  if (spec?.port === undefined) return true;
  if (typeof spec.port !== 'number') return false; // named ports: the stack's policies use numbers
  return port.port >= spec.port && port.port <= (spec.endPort ?? spec.port);
}

/** The policies of the pod's namespace that isolate it in one direction. */
function isolating(policies: readonly KubeObject[], pod: Peer, type: 'Ingress' | 'Egress'): KubeObject[] {
  return policies.filter((np) => np.metadata?.namespace === pod.namespace && policyTypes(np).includes(type) && selectorMatches(np.spec?.podSelector as LabelSelector, pod.labels));
}

/**
 * One direction of a flow: undefined when it is not allowed, else the names of the policies
 * whose rules allow it ([] when the pod is not isolated in that direction, or is no pod).
 */
function side(policies: readonly KubeObject[], pod: Peer, other: Peer, port: PortSpec, type: 'Ingress' | 'Egress'): string[] | undefined {
  if (pod.namespace === undefined) return [];
  const selecting = isolating(policies, pod, type);
  if (selecting.length === 0) return [];
  const key = type === 'Ingress' ? 'ingress' : 'egress';
  const peersKey = type === 'Ingress' ? 'from' : 'to';
  const by = selecting
    .filter((np) =>
      asArray(np.spec?.[key]).some((rule: any) => {
        const peers = asArray(rule?.[peersKey]);
        const ports = asArray(rule?.ports);
        return (peers.length === 0 || peers.some((p) => peerMatches(p, String(np.metadata.namespace), other))) && (ports.length === 0 || ports.some((s) => portMatches(s, port)));
      }),
    )
    .map((np) => String(np.metadata.name));
  return by.length ? by : undefined;
}

export interface FlowVerdict {
  allowed: boolean;
  /** The policies whose rules let it through (caller side, then callee side). */
  by: string[];
}

/** Whether the policies let `from` open a connection to `to` on this port. */
export function flowAllowed(policies: readonly KubeObject[], from: Peer, to: Peer, port: PortSpec): FlowVerdict {
  const egress = side(policies, from, to, port, 'Egress');
  const ingress = side(policies, to, from, port, 'Ingress');
  return { allowed: egress !== undefined && ingress !== undefined, by: [...(egress ?? []), ...(ingress ?? [])] };
}

/** Whether an endpoint of the description covers a peer, for the stack's namespace. */
export function endpointCovers(e: Endpoint, peer: Peer, namespace: string): boolean {
  switch (e.kind) {
    case 'component':
      return peer.namespace === namespace && peer.labels[COMPONENT_LABEL] === e.name;
    case 'any-pod':
      return peer.namespace === namespace;
    case 'unlabeled-pod':
      return peer.namespace === namespace && peer.labels[COMPONENT_LABEL] === undefined;
    case 'pods':
      return peer.namespace === e.namespace && Object.entries(e.labels).every(([k, v]) => peer.labels[k] === v);
    case 'other-namespace':
      return peer.namespace !== undefined && peer.namespace !== namespace;
    case 'outside':
      // An ipBlock cannot tell pods of other namespaces from the outside; the stack's own pods are never "outside".
      return peer.namespace !== namespace && inCidr(peer.ip, e.cidr);
  }
}

/** The path of the description that allows this flow, if any. */
export function intendedPath(paths: readonly NetworkPath[], from: Peer, to: Peer, port: PortSpec, namespace: string): NetworkPath | undefined {
  return paths.find((p) => endpointCovers(p.from, from, namespace) && endpointCovers(p.to, to, namespace) && p.ports.some((q) => q.protocol === port.protocol && q.port === port.port));
}

/** A pod template of the stack's namespace, as the universe's stack pods. */
export interface StackPod {
  name: string;
  labels: Record<string, string>;
}

/** Addresses given to representatives: a pod range and a documentation range for the outside. */
const OUTSIDE_IP = '203.0.113.7';
const podIp = (n: number) => `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`;

/**
 * The representatives the comparison tries: every stack pod, a pod of the namespace without
 * component labels, the pods each path names in other namespaces, pods of another namespace
 * (one without labels and one wearing each stack pod's labels), and an outside address.
 */
export function universe(stack: readonly StackPod[], paths: readonly NetworkPath[], namespace: string): Peer[] {
  const peers: Omit<Peer, 'ip'>[] = [
    ...stack.map((p) => ({ label: p.name, namespace, labels: p.labels })),
    { label: 'a pod without component labels', namespace, labels: {} },
  ];
  for (const e of paths.flatMap((p) => [p.from, p.to])) {
    if (e.kind === 'pods' && !peers.some((q) => q.namespace === e.namespace && JSON.stringify(q.labels) === JSON.stringify(e.labels))) {
      peers.push({ label: `${Object.values(e.labels)[0] ?? 'a pod'} in ${e.namespace}`, namespace: e.namespace, labels: e.labels });
    }
  }
  const elsewhere = 'another-namespace';
  peers.push({ label: `a pod of ${elsewhere}`, namespace: elsewhere, labels: {} });
  for (const p of stack) peers.push({ label: `a pod of ${elsewhere} labelled as ${p.name}`, namespace: elsewhere, labels: p.labels });
  return [...peers.map((p, i) => ({ ...p, ip: podIp(i) })), { label: `outside (${OUTSIDE_IP})`, labels: {}, ip: OUTSIDE_IP }];
}

/** Every port the paths or the policies name (numbers only). */
export function portsOf(policies: readonly KubeObject[], paths: readonly NetworkPath[]): PortSpec[] {
  const seen = new Map<string, PortSpec>();
  const add = (p: PortSpec) => seen.set(`${p.protocol}/${p.port}`, p);
  for (const p of paths) p.ports.forEach(add);
  for (const np of policies) {
    for (const rule of [...asArray(np.spec?.ingress), ...asArray(np.spec?.egress)]) {
      for (const s of asArray(rule?.ports)) if (typeof s?.port === 'number') add({ protocol: s.protocol ?? 'TCP', port: s.port });
    }
  }
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

export interface Mismatch {
  /** 'opened': the policies allow what no intended path names; 'closed': an intended path is blocked. */
  kind: 'opened' | 'closed';
  from: Peer;
  to: Peer;
  ports: PortSpec[];
  /** For 'opened', the policies that let it through; for 'closed', the path. */
  by: string[];
  path?: NetworkPath;
}

/**
 * Where the policies and the intended paths disagree, over the universe, for flows with at
 * least one end in the stack's namespace. Ports of one pair are grouped. Empty: they agree.
 */
export function comparePaths(policies: readonly KubeObject[], stack: readonly StackPod[], namespace: string, paths: readonly NetworkPath[] = ALLOWED_PATHS): Mismatch[] {
  const peers = universe(stack, paths, namespace);
  const ports = portsOf(policies, paths);
  const out: Mismatch[] = [];
  for (const from of peers) {
    for (const to of peers) {
      if (from === to || (from.namespace !== namespace && to.namespace !== namespace)) continue;
      const pair = new Map<string, Mismatch>();
      for (const port of ports) {
        const verdict = flowAllowed(policies, from, to, port);
        const path = intendedPath(paths, from, to, port, namespace);
        if (verdict.allowed === (path !== undefined)) continue;
        const kind = verdict.allowed ? 'opened' : 'closed';
        const key = `${kind} ${path?.name ?? verdict.by.join(',')}`;
        const m = pair.get(key) ?? { kind, from, to, ports: [], by: verdict.allowed ? verdict.by : [], ...(path ? { path } : {}) };
        m.ports.push(port);
        pair.set(key, m);
      }
      out.push(...pair.values());
    }
  }
  return out;
}

/**
 * Whether the description applies to this object set: every component it names is deployed in
 * the namespace, except the optional ones (the embedded PostgreSQL is rendered only without
 * DATABASE_URL). Other stacks (the rule tests' fixture) are not compared.
 */
export function describesStack(stack: readonly StackPod[], optional: readonly string[] = ['postgres'], paths: readonly NetworkPath[] = ALLOWED_PATHS): boolean {
  const present = new Set(stack.map((p) => p.labels[COMPONENT_LABEL]));
  return componentsOf(paths).filter((c) => !optional.includes(c)).every((c) => present.has(c));
}
