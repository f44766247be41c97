// The task tree of `down`: the creation order walked backwards. Only objects carrying our
// managed-by label are deleted; each stage waits until its objects are gone, the namespace last
// until it has finished terminating.
import type { ListrTask } from 'listr2';
import { loadConfig, type Config, type SettingKey } from '../config.ts';
import { DELETION_STAGES, STAGES, objectRef, type Stage } from '../order.ts';
import { MANAGED_LABELS, MANAGED_SELECTOR } from '../manifests.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import { deleteObject, listObjects } from '../kube/apply.ts';
import { watchUntil } from '../kube/watch.ts';
import { goneVerdict } from '../kinds.ts';
import type { KubeObject } from '../types.ts';
import { selectProvider } from '../cluster/index.ts';
import type { ClusterContext, ClusterProvider, ProviderName } from '../cluster/provider.ts';
import { formatDuration, runWithTimings, timed, type Timing } from './render.ts';
import { providerContext } from '../cluster/context.ts';

export interface DownOptions {
  env: string;
  repoRoot: string;
  /** --cluster; undefined: the environment's default (minikube for dev, current for prod). */
  clusterProvider?: ProviderName;
  /** --purge: after removing the stack, delete the cluster `up` created (or stop the sandbox). */
  purge?: boolean;
  context?: string;
  flags: Partial<Record<SettingKey, string>>;
  signal?: AbortSignal;
}

export interface DownContext {
  config?: Config;
  cluster?: Cluster;
  provider?: ClusterProvider;
  /** Why there is no cluster to remove the stack from (minikube profile stopped, no sandbox). */
  absent?: string;
  /** What --purge did. */
  purged?: string;
  /** Objects found per stage id. */
  found: Map<string, KubeObject[]>;
  /** Set when the namespace exists but was not created by this tool. */
  foreignNamespace?: boolean;
  timings: Timing[];
}

export function isManaged(object: KubeObject): boolean {
  return Object.entries(MANAGED_LABELS).every(([k, v]) => object.metadata.labels?.[k] === v);
}

/** What `down` may delete in a stage: only our labelled objects. */
async function discover(cluster: Cluster, namespace: string, stage: Stage): Promise<KubeObject[]> {
  const found: KubeObject[] = [];
  for (const ref of stage.kinds) {
    if (!ref.namespaced) {
      const list = await listObjects(cluster, ref.apiVersion, ref.kind, undefined, undefined, `metadata.name=${namespace}`);
      found.push(...(list?.items ?? []).filter(isManaged));
    } else {
      // Undefined list: the cluster does not serve the kind (no Dapr CRDs), so nothing of it exists.
      const list = await listObjects(cluster, ref.apiVersion, ref.kind, namespace, MANAGED_SELECTOR);
      found.push(...(list?.items ?? []));
    }
  }
  return found;
}

async function deleteAndWait(cluster: Cluster, stage: Stage, objects: KubeObject[], deadline: number, signal?: AbortSignal): Promise<void> {
  await Promise.all(
    objects.map(async (object) => {
      await deleteObject(cluster, object);
      const ref = stage.kinds.find((k) => k.kind === object.kind)!;
      await watchUntil(cluster, { kind: ref, namespace: object.metadata.namespace, name: object.metadata.name }, goneVerdict(object.metadata.name), {
        deadline,
        signal,
        goal: `${objectRef(object)} to be deleted`,
      });
    }),
  );
}

export function downTasks(options: DownOptions, ctx: DownContext): ListrTask<DownContext>[] {
  return [
    {
      title: 'Load configuration',
      task: async (_c, task) => {
        ctx.config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
        const selection = await selectProvider(options.clusterProvider, ctx.config.environment, { needsDocker: false, kubeContext: options.context });
        ctx.provider = selection.provider;
        task.title = `Configuration ${ctx.config.environment}: namespace ${ctx.config.namespace}, cluster ${ctx.provider.name}${selection.why ? ` (chosen by default: ${selection.why})` : ''}`;
      },
    },
    {
      title: 'Connect to the cluster',
      task: async (_c, task) => {
        // Nothing is started to tear down: a cluster that does not run holds no stack to remove.
        const found = await ctx.provider!.findCluster(clusterContext(ctx, options, (line) => (task.output = line)));
        if ('absent' in found) {
          ctx.absent = found.absent;
          task.title = `Cluster (${ctx.provider!.name}): ${found.absent}; no stack to remove`;
          return;
        }
        if (found.kubeconfig) process.env.KUBECONFIG = found.kubeconfig;
        ctx.cluster = loadKubeConfig(found.context ?? options.context);
        const version = await checkReachable(ctx.cluster);
        task.title = `Cluster (${ctx.provider!.name}): context ${ctx.cluster.context} at ${ctx.cluster.server} (Kubernetes ${version})`;
      },
    },
    {
      title: 'Find what todo-deploy created',
      skip: () => (ctx.absent ? 'Nothing to find: no cluster runs' : false),
      task: async (_c, task) => {
        const ns = ctx.config!.namespace;
        const namespaces = await listObjects(ctx.cluster!, 'v1', 'Namespace', undefined, undefined, `metadata.name=${ns}`);
        const namespace = namespaces?.items[0];
        if (namespace && !isManaged(namespace)) ctx.foreignNamespace = true;
        if (namespace) {
          for (const stage of DELETION_STAGES) ctx.found.set(stage.id, await discover(ctx.cluster!, ns, stage));
        }
        const total = [...ctx.found.values()].reduce((n, l) => n + l.length, 0);
        task.title = total === 0
          ? `Nothing to remove: namespace ${ns} ${namespace ? 'holds no objects managed by todo-deploy' : 'does not exist'}`
          : `Found ${total} object(s) managed by todo-deploy in namespace ${ns}`;
      },
    },
    ...DELETION_STAGES.map((stage, index): ListrTask<DownContext> => {
      const title = `Stage ${index + 1}/${STAGES.length} ${stage.title}`;
      return {
        title,
        skip: () => {
          const objects = ctx.found.get(stage.id) ?? [];
          if (objects.length > 0) return false;
          if (stage.id === 'namespace' && ctx.foreignNamespace) return `${title}: namespace ${ctx.config!.namespace} was not created by todo-deploy, so it is kept`;
          return `${title}: nothing to delete`;
        },
        task: async (_c, task) => {
          const objects = ctx.found.get(stage.id)!;
          const start = Date.now();
          task.title = `${title}: deleting ${objects.map(objectRef).join(', ')}`;
          try {
            await deleteAndWait(ctx.cluster!, stage, objects, Date.now() + ctx.config!.readyTimeoutSeconds * 1000, options.signal);
          } finally {
            const ms = Date.now() - start;
            ctx.timings.push({ title: `${index + 1}. ${stage.title}`, ms });
            task.title = `${title} (${formatDuration(ms)})`;
          }
        },
      };
    }),
    {
      title: 'Purge the cluster',
      enabled: () => options.purge === true,
      task: async (_c, task) => {
        ctx.purged = await timed(ctx.timings, 'purge', () => ctx.provider!.purge(clusterContext(ctx, options, (line) => (task.output = line))));
        task.title = `Purge: ${ctx.purged}`;
      },
    },
  ];
}

function clusterContext(ctx: DownContext, options: DownOptions, log: (line: string) => void): ClusterContext {
  return providerContext(ctx.config!, options, log);
}

export async function runDown(options: DownOptions): Promise<DownContext> {
  const ctx: DownContext = { found: new Map(), timings: [] };
  return runWithTimings(downTasks(options, ctx), ctx);
}
