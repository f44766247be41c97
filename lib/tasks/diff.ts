// `diff`: the plan as `up --skip-images` makes it (rendered, policy-gated), the live objects
// (one list per kind, concurrently; the cluster found, never started), and the classification.
// Nothing is written to the cluster.
import path from 'node:path';
import { loadConfig, type SettingKey } from '../config.ts';
import { buildSecrets } from '../secrets.ts';
import { registerSecretValues } from '../output.ts';
import { buildPlan, defaultImageRefs } from '../plan.ts';
import { manifestFiles } from '../manifests.ts';
import { policyGate } from '../policy/gate.ts';
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
  const secrets = buildSecrets(config, process.env);
  registerSecretValues(Object.values(secrets.values));
  const plan = buildPlan(config, secrets, defaultImageRefs(config), options.manifestsDir, options.repoRoot);
  const files = manifestFiles(path.resolve(options.repoRoot, options.manifestsDir)).map((abs) => path.relative(options.repoRoot, abs) || abs);
  const gate = policyGate({ objects: plan.rendered, files, environment: config.environment, namespace: config.namespace, root: options.repoRoot });
  if (gate.violations.length > 0) throw new UsageError(`The policy gate refused the manifests, so up would not apply them.\n${formatText(gate, config.environment)}`);
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
