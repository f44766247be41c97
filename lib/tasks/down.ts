// The task tree of `down`: the creation order walked backwards. Only objects carrying our
// managed-by label are deleted; each stage waits until its objects are gone, the namespace last
// until it has finished terminating.
import type { ListrTask } from 'listr2';
import { loadConfig, type Config, type SettingKey } from '../config.ts';
import { DELETION_STAGES, STAGES, objectRef, type Stage } from '../order.ts';
import { isManaged, isUserObject, keptNamespaceText } from '../ownership.ts';
import { namespaceObjects } from '../kube/namespace-objects.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import { deleteMatching, deleteNow } from '../kube/apply.ts';
import { readLive } from '../kube/live.ts';
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
  /** --force: delete the namespace todo-deploy created even when it holds objects of the user's. */
  force?: boolean;
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
  /** Objects of the user's that keep todo-deploy's namespace (without --force). */
  keptFor?: KubeObject[];
  timings: Timing[];
}

export { isManaged };

/** The kinds down waits on besides the stack's own: a Deployment's ReplicaSets and Pods. */
const REPLICASET = { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true };
const POD = { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true };

/** "a=b,c=d" from a Deployment's spec.selector.matchLabels; undefined without one. Pure. */
export function selectorOf(deployment: KubeObject): string | undefined {
  const labels = deployment.spec?.selector?.matchLabels as Record<string, string> | undefined;
  const terms = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return terms.length ? terms.join(',') : undefined;
}

/**
 * Deletes a stage's objects, all at once, and returns when they are gone. An object without
 * finalizers is gone when its DELETE returns, so only the others are watched (the Namespace,
 * until the namespace controller has finished). Deployments are deleted in the background and
 * their ReplicaSets and Pods (matched by each Deployment's selector) right after, by us: the
 * stage ends once those Pods are gone, which is what "Deployments (stops Pods)" asks, without
 * waiting for the garbage collector to walk each Deployment in turn at its own request rate.
 */
async function deleteAndWait(cluster: Cluster, stage: Stage, objects: KubeObject[], deadline: number, signal?: AbortSignal): Promise<void> {
  const wait = (kind: { apiVersion: string; kind: string; plural: string; namespaced: boolean }, namespace: string | undefined, select: { name?: string; labelSelector?: string }, goal: string) =>
    watchUntil(cluster, { kind, namespace, ...select }, (items) => (select.name ? goneVerdict(select.name)(items) : { done: items.length === 0, progress: `${items.length} left` }), { deadline, signal, goal });
  await Promise.all(
    objects.map(async (object) => {
      const result = await deleteNow(cluster, object);
      if (result !== 'pending') return;
      const ref = stage.kinds.find((k) => k.kind === object.kind)!;
      await wait(ref, object.metadata.namespace, { name: object.metadata.name }, `${objectRef(object)} to be deleted`);
    }),
  );
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  await Promise.all(
    deployments.map(async (d) => {
      const selector = selectorOf(d);
      const namespace = d.metadata.namespace!;
      if (!selector) return;
      await Promise.all([deleteMatching(cluster, REPLICASET, namespace, selector), deleteMatching(cluster, POD, namespace, selector)]);
      await wait(POD, namespace, { labelSelector: selector }, `the pods of ${objectRef(d)} to stop`);
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
        // One list per kind, all at once (only the Namespace's when it does not exist).
        const live = await readLive(ctx.cluster!, ns, { namespaceFirst: true });
        const namespace = live.lists.find((l) => !l.kind.namespaced)?.items[0];
        if (namespace && !isManaged(namespace)) ctx.foreignNamespace = true;
        if (namespace) {
          for (const stage of DELETION_STAGES) {
            ctx.found.set(stage.id, live.lists.filter((l) => stage.kinds.some((k) => k.kind === l.kind.kind)).flatMap((l) => l.items).filter(isManaged));
          }
        }
        // Deleting our namespace would delete everything in it: objects of the user's keep it.
        if (namespace && !ctx.foreignNamespace && !options.force) {
          const users = (await namespaceObjects(ctx.cluster!, ns)).filter(isUserObject);
          if (users.length > 0) {
            ctx.keptFor = users;
            ctx.found.set('namespace', []);
          }
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
          if (stage.id === 'namespace' && ctx.keptFor) return `${title}: ${keptNamespaceText(ctx.config!.namespace, ctx.keptFor)}`;
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
