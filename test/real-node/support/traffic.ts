// The traffic matrix: every path of lib/policy/paths.ts (allowed and forbidden) turned into
// concrete connection attempts between real pods, run from inside the source pods with the
// Node the images carry (`kubectl exec ... node -e`), each attempt with a short timeout.
import { spawnSync } from 'node:child_process';
import { COMPONENT_LABEL, describeEndpoint, type Endpoint, type NetworkPath, type PortSpec } from '../../../lib/policy/paths.ts';

/** A pod the attempts start from. */
export interface SourcePod {
  label: string;
  namespace: string;
  name: string;
  container: string;
}

export interface Target {
  kind: 'tcp' | 'dns';
  host: string;
  port: number;
  /** What the row says the target is. */
  label: string;
}

export interface Attempt {
  path: NetworkPath;
  expect: 'open' | 'closed';
  from: SourcePod;
  to: Target;
  port: PortSpec;
}

/** What the test knows of the cluster: pods by role, Service addresses, the DNS Service, listeners. */
export interface World {
  /** The stack's pods by component name. */
  components: Record<string, SourcePod>;
  unlabeled: SourcePod;
  otherNamespace: SourcePod;
  /** Pods standing in for the pods of a named namespace, by namespace (ingress-nginx). */
  namedPods: Record<string, SourcePod>;
  /** ClusterIP of each Service by name. */
  services: Record<string, string>;
  dnsService: string;
  /** Pod IP of a listener standing in for a namespace's pods (dapr-system), by namespace. */
  listeners: Record<string, string>;
  /** An address outside the cluster where something listens on the outside ports. */
  outside: string;
}

function sources(e: Endpoint, w: World): SourcePod[] {
  switch (e.kind) {
    case 'component':
      return w.components[e.name] ? [w.components[e.name]!] : [];
    case 'any-pod':
      return [...Object.values(w.components), w.unlabeled];
    case 'unlabeled-pod':
      return [w.unlabeled];
    case 'other-namespace':
      return [w.otherNamespace];
    case 'pods':
      return w.namedPods[e.namespace] ? [w.namedPods[e.namespace]!] : [];
    case 'outside':
      return [];
  }
}

function target(p: NetworkPath, port: PortSpec, w: World): Target | undefined {
  const e = p.to;
  if (e.kind === 'component' && p.service && w.services[p.service]) return { kind: 'tcp', host: w.services[p.service]!, port: port.port, label: `${p.service}:${port.port}` };
  if (e.kind === 'pods' && e.labels['k8s-app'] === 'kube-dns') return { kind: port.protocol === 'UDP' ? 'dns' : 'tcp', host: w.dnsService, port: port.port, label: `kube-dns ${port.protocol} ${port.port}` };
  if (e.kind === 'pods' && w.listeners[e.namespace]) return { kind: 'tcp', host: w.listeners[e.namespace]!, port: port.port, label: `a pod of ${e.namespace}:${port.port}` };
  if (e.kind === 'outside') return { kind: 'tcp', host: w.outside, port: port.port, label: `${w.outside}:${port.port} (outside)` };
  return undefined;
}

/** Every attempt the paths ask for; throws naming a path the world cannot try. */
export function attempts(allowed: readonly NetworkPath[], forbidden: readonly NetworkPath[], w: World): Attempt[] {
  const out: Attempt[] = [];
  for (const [paths, expect] of [[allowed, 'open'], [forbidden, 'closed']] as const) {
    for (const path of paths) {
      const from = sources(path.from, w);
      const tos = path.ports.map((port) => ({ port, to: target(path, port, w) }));
      if (from.length === 0 || tos.some((t) => !t.to)) throw new Error(`the traffic matrix cannot try "${path.name}" (${describeEndpoint(path.from)} -> ${describeEndpoint(path.to)}): no pod or address stands for an end`);
      for (const f of from) for (const t of tos) out.push({ path, expect, from: f, to: t.to!, port: t.port });
    }
  }
  return out;
}

/** Runs inside a pod: tries each target (TCP connect, or a DNS query over UDP), prints one JSON array of outcomes. */
const PROBE = `const net=require('net'),dns=require('dns');const T=JSON.parse(process.argv[1]),ms=+process.argv[2];
const one=(t)=>new Promise((r)=>{if(t.kind==='dns'){const x=new dns.promises.Resolver({timeout:ms,tries:1});x.setServers([t.host+':'+t.port]);x.resolve4('kubernetes.default.svc.cluster.local').then(()=>r('connected'),(e)=>r(e.code||String(e)));return;}
const s=net.connect({host:t.host,port:t.port});const d=(v)=>{s.destroy();r(v);};s.setTimeout(ms,()=>d('timeout'));s.on('connect',()=>d('connected'));s.on('error',(e)=>d(e.code||String(e)));});
Promise.all(T.map(one)).then((v)=>console.log(JSON.stringify(v)));`;

export interface Outcome extends Attempt {
  /** 'connected', or why not (ECONNREFUSED, EHOSTUNREACH, timeout, ...). */
  result: string;
}

/** Runs every attempt, one `kubectl exec` per source pod, the pod's attempts in parallel. */
export function runAttempts(list: Attempt[], kubectl: string, kubeconfig: string, timeoutMs = 3000): Outcome[] {
  const bySource = new Map<string, Attempt[]>();
  for (const a of list) bySource.set(`${a.from.namespace}/${a.from.name}`, [...(bySource.get(`${a.from.namespace}/${a.from.name}`) ?? []), a]);
  const out: Outcome[] = [];
  for (const group of bySource.values()) {
    const from = group[0]!.from;
    const targets = group.map((a) => ({ kind: a.to.kind, host: a.to.host, port: a.to.port }));
    const r = spawnSync(kubectl, ['--kubeconfig', kubeconfig, 'exec', '-n', from.namespace, from.name, '-c', from.container, '--', 'node', '-e', PROBE, JSON.stringify(targets), String(timeoutMs)], { encoding: 'utf8', timeout: 60_000 });
    const line = (r.stdout ?? '').trim().split('\n').at(-1) ?? '';
    let results: string[];
    try {
      results = JSON.parse(line) as string[];
    } catch {
      throw new Error(`kubectl exec into ${from.namespace}/${from.name} gave no results (exit ${r.status}): ${r.stdout}${r.stderr}${r.error ? r.error.message : ''}`);
    }
    group.forEach((a, i) => out.push({ ...a, result: results[i] ?? 'no result' }));
  }
  return out;
}

/**
 * The matrix as printed: one line per attempt, what paths.ts calls the path (allowed or
 * forbidden), what happened, and ✓ when that is what the run expects (`expectation`: the paths'
 * own word with enforcement on; every path open in the control run without it). Pure.
 */
export function formatMatrix(title: string, outcomes: Outcome[], expectation: (o: Outcome) => 'open' | 'closed' = (o) => o.expect): string {
  const rows = outcomes.map((o) => {
    const open = o.result === 'connected';
    const ok = (expectation(o) === 'open') === open;
    return `  ${ok ? '✓' : '✗'} ${o.expect === 'open' ? 'allowed  ' : 'forbidden'}  ${o.path.name.padEnd(44)} ${o.from.label.padEnd(24)} -> ${o.to.label.padEnd(28)} ${open ? 'connected' : `not connected (${o.result})`}`;
  });
  return [title, ...rows].join('\n');
}

/** A stack pod's role label, for the component map. */
export const componentOf = (labels: Record<string, string> | undefined) => labels?.[COMPONENT_LABEL];
