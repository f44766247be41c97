// `doctor`'s cluster probes: the provider's findCluster, reachability, the ingress controller,
// the Dapr control plane and the address, with the same code `up` uses. A module of its own
// so that doctor loads the providers and the Kubernetes client only when it asks a cluster.
import { PROVIDERS } from '../cluster/index.ts';
import type { ClusterContext, ProviderName } from '../cluster/provider.ts';
import { getIngressClass, getIngressController, INGRESS_NGINX, ingressControllerReady, TRAEFIK } from '../cluster/ingress.ts';
import { describeMissing, installNeeded, notReady, probeDapr } from '../cluster/dapr.ts';
import { STAND_IN_LABEL } from '../cluster/dapr-stand-in.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import type { Probe } from './checks.ts';
import { clusterEnforcement } from '../cluster/policy-probe.ts';

export interface ClusterProbe {
  cluster: Probe['cluster'];
  ingress?: Probe['ingress'];
  dapr?: Probe['dapr'];
  networkPolicies?: Probe['networkPolicies'];
  /** True when the API server answered; address and serves are then the provider's. */
  reachable: boolean;
  address?: string;
  serves?: boolean;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function probeCluster(providerName: ProviderName, ctx: ClusterContext, namespace: string): Promise<ClusterProbe> {
  const provider = PROVIDERS[providerName];
  let cluster: Probe['cluster'];
  let client: Cluster | undefined;
  try {
    const found = await provider.findCluster(ctx);
    if ('absent' in found) {
      cluster = { state: 'absent', reason: found.absent };
    } else {
      if (found.kubeconfig) process.env.KUBECONFIG = found.kubeconfig;
      client = loadKubeConfig(found.context ?? ctx.kubeContext);
      const k8s = await checkReachable(client, 5_000);
      cluster = { state: 'reachable', description: `${found.summary}; context ${client.context} at ${client.server} (Kubernetes ${k8s})` };
    }
  } catch (err) {
    client = undefined;
    cluster = { state: 'unreachable', error: message(err) };
  }
  if (!client) return { cluster, reachable: false };

  let ingress: Probe['ingress'];
  try {
    // The sandbox's real node runs Traefik for class nginx; every other cluster ingress-nginx.
    const ref = providerName === 'sandbox' ? TRAEFIK : INGRESS_NGINX;
    const controller = await getIngressController(client, ref);
    const cls = await getIngressClass(client);
    ingress = {
      name: ref.name,
      namespace: ref.namespace,
      controller: controller ? ((await ingressControllerReady(client, ref)) ? 'ready' : 'not-ready') : 'missing',
      ingressClass: cls ? (cls.spec?.controller ?? 'unknown') : undefined,
    };
  } catch {
    ingress = undefined;
  }
  let dapr: Probe['dapr'];
  try {
    const found = await probeDapr(client);
    const standIn = found.workloads.some((w) => w.object?.metadata.labels?.[STAND_IN_LABEL] === 'true');
    dapr = { missing: installNeeded(found) ? describeMissing(found) : undefined, notReady: installNeeded(found) ? [] : notReady(found), ...(standIn ? { standIn } : {}) };
  } catch {
    dapr = undefined;
  }
  const networkPolicies = await clusterEnforcement(provider, client, ctx);
  try {
    const a = await provider.address(client, ctx, namespace);
    return { cluster, ingress, dapr, networkPolicies, reachable: true, address: a.ingress, serves: a.serves };
  } catch {
    return { cluster, ingress, dapr, networkPolicies, reachable: true };
  }
}
