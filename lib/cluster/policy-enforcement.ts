// Does the cluster enforce NetworkPolicies? A NetworkPolicy is only an object until a network
// plugin implements it: minikube's default bridge CNI and flannel ignore them, kind enforces them
// from v0.24.0 (kube-network-policies beside kindnet), Calico, Cilium, Antrea, Weave Net and
// kube-router enforce them. The answer comes from the provider when it knows (the sandbox knows
// whether its real node runs kube-router), else from the DaemonSets the cluster runs. `up` warns
// and `doctor` reports when the policies are not enforced, naming what stays open. Pure (doctor's
// local checks load it without the Kubernetes client); asking the cluster is policy-probe.ts.
import { ALLOWED_PATHS, FORBIDDEN_PATHS } from '../policy/paths.ts';

export type Enforcement =
  /** `by`: what enforces them. */
  | { enforces: true; by: string }
  /** `why`: why nothing does. */
  | { enforces: false; why: string }
  /** The cluster could not be asked, or runs nothing known either way. */
  | { enforces: undefined; why: string };

/** DaemonSet names of network plugins that implement NetworkPolicy, with what to call them. */
const ENFORCERS: [RegExp, string][] = [
  [/^calico-node$/, 'Calico'],
  [/^cilium$/, 'Cilium'],
  [/^antrea-agent$/, 'Antrea'],
  [/^weave-net$/, 'Weave Net'],
  [/^kube-router$/, 'kube-router'],
  [/^canal$/, 'Canal (Calico policies)'],
  // kind >= v0.24.0 runs it beside kindnet unless networking.disableNetworkPolicies is set.
  [/^kube-network-policies$/, 'kube-network-policies (kind)'],
];
/** Plugins known to ignore NetworkPolicies. */
const IGNORERS: [RegExp, string][] = [
  [/^kindnet$/, 'kindnet without kube-network-policies (kind before v0.24.0, or networking.disableNetworkPolicies)'],
  [/^kube-flannel(-ds)?$/, 'flannel'],
];

/** The verdict from the DaemonSets found (namespace/name). Pure. */
export function judgeEnforcement(daemonSets: readonly { namespace: string; name: string }[]): Enforcement {
  for (const [pattern, what] of ENFORCERS) {
    const found = daemonSets.find((d) => pattern.test(d.name));
    if (found) return { enforces: true, by: `${what} (DaemonSet ${found.namespace}/${found.name})` };
  }
  for (const [pattern, what] of IGNORERS) {
    const found = daemonSets.find((d) => pattern.test(d.name));
    if (found) return { enforces: false, why: `the network plugin is ${what} (DaemonSet ${found.namespace}/${found.name}), which ignores NetworkPolicies` };
  }
  return { enforces: false, why: 'no NetworkPolicy implementation runs (no Calico, Cilium, Antrea, Weave Net, kube-router or kube-network-policies DaemonSet; minikube\'s default bridge CNI ignores the policies)' };
}

/**
 * What stays open when the policies are not enforced: the forbidden paths that matter most,
 * Redis first (it has no password because only the backend may reach it). Pure.
 */
export function openWithoutEnforcement(): string {
  const targets = [...new Set(FORBIDDEN_PATHS.filter((p) => p.service).map((p) => `${p.service}:${p.ports[0]!.port}`))].sort((a, b) => Number(b.startsWith('redis')) - Number(a.startsWith('redis')));
  return `${targets[0]} (Redis has no password: only the policies keep it to the backend), ${targets.slice(1).join(', ')} are open to every pod of every namespace, not only along the ${ALLOWED_PATHS.length} paths of lib/policy/paths.ts`;
}

/** One line for `up` and `doctor`. Pure. */
export function describeEnforcement(e: Enforcement): string {
  if (e.enforces) return `NetworkPolicies are enforced by ${e.by}`;
  return `NetworkPolicies are NOT enforced${e.enforces === false ? '' : ' (unknown)'}: ${e.why}; ${openWithoutEnforcement()}`;
}
