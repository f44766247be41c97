// `diff`: the plan as `up --skip-images` makes it (rendered, policy-gated), the live objects
// (one list per kind, concurrently; the cluster found, never started), and the classification.
// Nothing is written to the cluster.
import { loadConfig, type SettingKey } from '../config.ts';
import { planDeployment } from '../plan.ts';
import { formatText } from '../policy/format/text.ts';
import { selectProvider } from '../cluster/index.ts';
import { providerContext } from '../cluster/context.ts';
import type { ProviderName } from '../cluster/provider.ts';
import { loadKubeConfig } from '../kube/client.ts';
import { readLive } from '../kube/live.ts';
import { FIELD_MANAGER } from '../kube/apply.ts';
import { diffObjects, type DiffEntry } from '../diff.ts';
import { UsageError } from '../errors.ts';
import type { Environment } from '../config.ts';
import type { KubeObject } from '../types.ts';

export interface DiffOptions {
  env: string;
  repoRoot: string;
  manifestsDir: string;
  clusterProvider?: ProviderName;
  context?: string;
  flags: Partial<Record<SettingKey, string>>;
}

export interface DiffRun {
  entries: DiffEntry[];
  namespace: string;
  environment: Environment;
  /** Where the comparison was made, for the report's first line. */
  where: string;
}

export async function runDiff(options: DiffOptions): Promise<DiffRun> {
  const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
  // The plan `up` would apply, checked as `up` checks it.
  const plan = planDeployment({ config, processEnv: process.env, repoRoot: options.repoRoot, manifestsDir: options.manifestsDir, secrets: 'required' });
  if (plan.policy.violations.length > 0) throw new UsageError(`The policy gate refused the manifests, so up would not apply them.\n${formatText(plan.policy, config.environment)}`);
  const planned = plan.stages.flatMap((s) => s.objects.map((o) => o.object));

  const { provider } = await selectProvider(options.clusterProvider, config.environment, { needsDocker: false, kubeContext: options.context });
  const found = await provider.findCluster(providerContext(config, { context: options.context }, () => {}));
  let live: KubeObject[] = [];
  let where = `namespace ${config.namespace}`;
  if ('absent' in found) {
    where += ` (no cluster: ${found.absent})`;
  } else {
    if (found.kubeconfig) process.env.KUBECONFIG = found.kubeconfig;
    const cluster = loadKubeConfig(found.context ?? options.context);
    where += ` of context ${cluster.context}`;
    // Prune candidates are reported in deletion order; the lists come in creation order.
    live = (await readLive(cluster, config.namespace)).objects.reverse();
  }
  return { entries: diffObjects(planned, live, FIELD_MANAGER), namespace: config.namespace, environment: config.environment, where };
}
