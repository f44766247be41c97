// Whether kube-router has written the firewall of the namespace's pods on the real node. A pod's
// gate passes once it is Ready; kube-router turns it into rules on its own schedule (a full sync
// after each pod or policy event): the pod's KUBE-POD-FW chain, and its address in the ipsets of
// the policies that name it as a peer. Until then a new frontend pod, missing from the set the
// backend's policy admits, is refused by the backend. kube-router writes a pod's chain and the
// ipsets in the same sync, from the same view of the pods, so a pod's chain in the filter table
// means its address is in its sets too. `up` on an enforcing real node says the URL works only
// once every running pod a policy selects has its chain.
//
// What this does not see: a policy changed while its pods stay (their chains are already there);
// kube-router names its policy chains by a hash that includes its sync version, so they cannot
// be matched to a policy from outside.
import { listObjects } from '../../kube/apply.ts';
import type { Cluster } from '../../kube/client.ts';
import type { KubeObject } from '../../types.ts';
import { selectorMatches, type LabelSelector } from '../../policy/objects.ts';
import { filterRules } from './policy-controller.ts';
import { waitUntilNoneLeft, type Settled } from './settle.ts';

/**
 * The pods kube-router filters: running with an address, not being deleted, not on the host's
 * network, and selected by a NetworkPolicy of their namespace. Their names. Pure.
 */
export function policedPods(pods: readonly KubeObject[], policies: readonly KubeObject[]): string[] {
  return pods
    .filter((p) => p.status?.phase === 'Running' && p.status?.podIP && !p.metadata?.deletionTimestamp && !p.spec?.hostNetwork)
    .filter((p) => policies.some((np) => selectorMatches((np.spec?.podSelector ?? {}) as LabelSelector, p.metadata?.labels ?? {})))
    .map((p) => p.metadata!.name!);
}

/** The pods whose jump to their own firewall chain is not in the filter table yet (kube-router's rule comment names pod and namespace). Pure. */
export function unfiltered(rules: string, pods: readonly string[], namespace: string): string[] {
  return pods.filter((name) => !rules.includes(`POD name:${name} namespace: ${namespace} `));
}

/**
 * Waits until kube-router has written the firewall of every pod a NetworkPolicy of the namespace
 * selects; returns how long that took and which pods it waited for. Throws at the deadline.
 */
export async function waitForPolicyRules(cluster: Cluster, namespace: string, options: { deadlineMs: number; explain: () => string; netns: string; rules?: () => string }): Promise<Settled<string>> {
  const rules = options.rules ?? (() => filterRules(options.netns));
  return waitUntilNoneLeft(
    async () => {
      const [pods, policies] = await Promise.all([
        listObjects(cluster, 'v1', 'Pod', namespace),
        listObjects(cluster, 'networking.k8s.io/v1', 'NetworkPolicy', namespace),
      ]);
      return unfiltered(rules(), policedPods(pods?.items ?? [], policies?.items ?? []), namespace);
    },
    {
      deadlineMs: options.deadlineMs,
      everyMs: 250,
      timeout: (left) => new Error(`kube-router on the real node has not written the NetworkPolicy rules of pod(s) ${left.join(', ')} in ${namespace} within ${Math.round(options.deadlineMs / 1000)} s of their gates passing, so the policies' allowed paths to and from them may still be refused. ${options.explain()}`),
    },
  );
}
