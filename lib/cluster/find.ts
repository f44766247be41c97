// The cluster a read-only command (status, history) or a rollback talks to: found as `down`
// finds it (the provider's cluster, never started or created), and checked to answer.
import type { Config } from '../config.ts';
import { selectProvider } from './index.ts';
import { providerContext } from './context.ts';
import type { ProviderName } from './provider.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';

export interface FoundCluster {
  cluster: Cluster;
  provider: ProviderName;
}

/** The running cluster, or { absent } saying why there is none (a stopped minikube profile, no sandbox). */
export async function findRunningCluster(config: Config, options: { clusterProvider?: ProviderName; context?: string }): Promise<FoundCluster | { absent: string }> {
  const { provider } = await selectProvider(options.clusterProvider, config.environment, { needsDocker: false, kubeContext: options.context });
  const found = await provider.findCluster(providerContext(config, { context: options.context }, () => {}));
  if ('absent' in found) return { absent: `${provider.name}: ${found.absent}` };
  if (found.kubeconfig) process.env.KUBECONFIG = found.kubeconfig;
  const cluster = loadKubeConfig(found.context ?? options.context);
  await checkReachable(cluster);
  return { cluster, provider: provider.name };
}
