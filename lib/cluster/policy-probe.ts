// Asks a cluster whether it enforces NetworkPolicies (policy-enforcement.ts judges): the
// provider when it knows, else the DaemonSets the cluster runs.
import type { Cluster } from '../kube/client.ts';
import { listObjects } from '../kube/apply.ts';
import { judgeEnforcement, type Enforcement } from './policy-enforcement.ts';
import type { ClusterContext, ClusterProvider } from './provider.ts';

/** Asks the cluster which DaemonSets it runs. */
export async function probeEnforcement(cluster: Cluster): Promise<Enforcement> {
  try {
    const list = await listObjects(cluster, 'apps/v1', 'DaemonSet', undefined);
    return judgeEnforcement((list?.items ?? []).map((d) => ({ namespace: String(d.metadata?.namespace ?? ''), name: String(d.metadata?.name ?? '') })));
  } catch (err) {
    return { enforces: undefined, why: `the DaemonSets could not be listed (${err instanceof Error ? err.message : String(err)})` };
  }
}

/** The provider's answer when it has one, else the cluster's DaemonSets. */
export async function clusterEnforcement(provider: ClusterProvider, cluster: Cluster, ctx: ClusterContext): Promise<Enforcement> {
  return provider.policyEnforcement?.(ctx) ?? (await probeEnforcement(cluster));
}
