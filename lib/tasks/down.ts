// `down` as one pipeline: the creation order walked backwards through the executor. Only
// objects carrying the managed labels are deleted; each stage waits until its objects are gone,
// the namespace last until it has finished terminating. With --purge, the cluster `up` created
// goes too.
import { loadConfig, type Config, type SettingKey } from '../config.ts';
import { DELETION_STAGES, objectRef, type Stage } from '../order.ts';
import { isManaged } from '../manifests.ts';
import { isUserObject, keptNamespaceText } from '../ownership.ts';
import { namespaceObjects } from '../kube/namespace-objects.ts';
import { KINDS } from '../kinds.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import { deleteMatching, deleteNow } from '../kube/apply.ts';
import { readLive } from '../kube/live.ts';
import { selectorOf } from '../diagnose.ts';
import type { Gate } from '../readiness.ts';
import type { KubeObject } from '../types.ts';
import { acquireLock, type HeldLock } from '../release/lock.ts';
import { releaseStore } from '../release/store.ts';
import { lastDeployed, RELEASE_NAME, uninstalling, uninstallStopped } from '../release/record.ts';
import type { HelmRelease } from '../release/helm-codec.ts';
import { Interrupted } from '../errors.ts';
import { selectProvider } from '../cluster/index.ts';
import { providerContext } from '../cluster/context.ts';
import type { ProviderName } from '../cluster/provider.ts';
import { Execution, Skip, goneGate, runStage, stageId, stageTitle, steps, untilAborted, type Listener, type StageWork, type Timing } from '../executor.ts';

export interface DownOptions {
  env: string;
  repoRoot: string;
  /** --cluster; undefined: the environment's default (dev: the first available, lib/cluster/default.ts; prod: current). */
  clusterProvider?: ProviderName;
  /** --purge: after removing the stack, delete the cluster `up` created (or stop the sandbox). */
  purge?: boolean;
  /** --force: delete the namespace todo-deploy created even when it holds objects of the user's. */
  force?: boolean;
  context?: string;
  flags: Partial<Record<SettingKey, string>>;
  signal?: AbortSignal;
}

export interface DownResult {
  config: Config;
  /** Why there is no cluster to remove the stack from (minikube profile stopped, no sandbox). */
  absent?: string;
  /** How many objects were deleted. */
  removed: number;
  /** What --purge did. */
  purged?: string;
  /** Set when the namespace exists but was not created by this tool (it is kept). */
  foreignNamespace?: boolean;
  /** Objects of the user's that keep todo-deploy's namespace (without --force). */
  keptFor?: KubeObject[];
  /** True once this run deleted the namespace and saw it gone. */
  namespaceGone: boolean;
  timings: Timing[];
}

const NAMESPACE = KINDS.Namespace.ref;

/** The pods of a deleted Deployment, gone: what "Deployments (stops Pods)" waits for. */
function podsGoneGate(deployment: KubeObject, selector: string): Gate {
  const namespace = deployment.metadata.namespace;
  return {
    title: `pods of ${objectRef(deployment)} stopping`,
    goal: `the pods of ${objectRef(deployment)} to stop`,
    target: { kind: KINDS.Pod.ref, namespace, labelSelector: selector },
    evaluate: (items) => ({ done: items.length === 0, progress: `pods of ${deployment.metadata.name}: ${items.length} left` }),
    subject: deployment,
  };
}

/**
 * Deletes a stage's objects, all at once, and says what is left to wait for. An object without
 * finalizers is gone when its DELETE returns, so only the others are watched (the Namespace,
 * until the namespace controller has finished). Deployments are deleted in the background and
 * their ReplicaSets and Pods (matched by each Deployment's selector) right after, by `down`
 * itself: the stage ends once those Pods are gone, without waiting for the garbage collector
 * to walk each Deployment in turn at its own request rate.
 */
async function deleteStage(cluster: Cluster, stage: Stage, objects: readonly KubeObject[]): Promise<{ title: string; gates: Gate[] }> {
  const ref = (o: KubeObject) => stage.kinds.find((k) => k.kind === o.kind)!;
  const results = await Promise.all(objects.map(async (o) => ({ o, result: await deleteNow(cluster, o) })));
  const gates = results.filter((r) => r.result === 'pending').map((r) => goneGate(r.o, ref(r.o)));
  const deployments = objects.filter((o) => o.kind === KINDS.Deployment.ref.kind).flatMap((d) => {
    const selector = selectorOf(d);
    return selector ? [{ d, selector }] : [];
  });
  // Every Deployment's ReplicaSets and Pods at once (one after the other, each added a round trip per Deployment).
  await Promise.all(deployments.flatMap(({ d, selector }) => [KINDS.ReplicaSet.ref, KINDS.Pod.ref].map((kind) => deleteMatching(cluster, kind, d.metadata.namespace!, selector))));
  gates.push(...deployments.map(({ d, selector }) => podsGoneGate(d, selector)));
  return { title: gates.length ? 'gone' : 'gone: every object went with its DELETE', gates };
}

/** What the executor does with one stage on the way down: delete what was found, wait until gone. */
export function downWork(stage: Stage, position: number, objects: readonly KubeObject[]): StageWork {
  return {
    stage,
    position,
    action: 'delete',
    objects: objects.map((object) => ({ object, file: '(cluster)', line: 0 })),
    groups: [],
    perform: (cluster) => deleteStage(cluster, stage, objects),
  };
}

const STEP = steps({ config: 'Load configuration', connect: 'Connect to the cluster', find: 'Find what todo-deploy created', purge: 'Purge the cluster' });

export async function runDown(options: DownOptions, listener: Listener): Promise<DownResult> {
  const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
  const { provider, why } = await untilAborted(selectProvider(options.clusterProvider, config.environment, { needsDocker: false, kubeContext: options.context }), options.signal);
  const exec = new Execution(listener, options.signal);
  const pctx = providerContext(config, options, exec.log);
  const ns = config.namespace;
  const stages = DELETION_STAGES.map((stage, index) => ({ stage, position: index + 1 }));
  exec.announce([STEP.config, STEP.connect, STEP.find, ...stages.map((s) => ({ id: stageId(s.stage), title: stageTitle(s) })), ...(options.purge ? [STEP.purge] : [])]);
  exec.done(STEP.config.id, `Configuration ${config.environment}: namespace ${ns}, cluster ${provider.name}${why ? ` (chosen by default: ${why})` : ''}`);
  const result: DownResult = { config, removed: 0, namespaceGone: false, timings: exec.timings };
  let lock: HeldLock | undefined;
  /** The deployed revision, marked uninstalling once the lock is held. */
  let marked: HelmRelease | undefined;
  let cluster: Cluster | undefined;
  try {
    await exec.step(STEP.connect, async () => {
      // Nothing is started to tear down: a cluster that does not run holds no stack to remove.
      const found = await provider.findCluster(pctx);
      if ('absent' in found) {
        result.absent = found.absent;
        return `Cluster (${provider.name}): ${found.absent}; no stack to remove`;
      }
      if (found.kubeconfig) process.env.KUBECONFIG = found.kubeconfig;
      cluster = loadKubeConfig(found.context ?? options.context);
      const version = await checkReachable(cluster);
      return `Cluster (${provider.name}): context ${cluster.context} at ${cluster.server} (Kubernetes ${version})`;
    });
    const found = new Map<string, KubeObject[]>();
    await exec.step(STEP.find, async () => {
      if (!cluster) throw new Skip('Nothing to find: no cluster runs');
      // One list per kind, all at once (only the Namespace's when it does not exist).
      const live = await readLive(cluster, ns, { namespaceFirst: true });
      const namespace = live.lists.find((l) => !l.kind.namespaced)?.items[0];
      if (namespace && !isManaged(namespace)) result.foreignNamespace = true;
      if (namespace && !namespace.metadata.deletionTimestamp) {
        // One run at a time: a running up (or rollback) holds the lock, and this down is refused at once.
        lock = await acquireLock(cluster, { namespace: ns, command: 'npm run down' });
        if (lock.tookOverFrom) exec.log(`took over the lock from ${lock.tookOverFrom}, which stopped renewing it`);
        // From the first delete on, the deployed revision is no longer what runs: marked
        // uninstalling first, as Helm's uninstall does, so a down that stops half-way leaves a
        // record that says so (and a finished one removes the records below).
        const deployed = lastDeployed(await releaseStore(cluster, ns, RELEASE_NAME).history());
        if (deployed) {
          marked = uninstalling(deployed, new Date());
          await releaseStore(cluster, ns, RELEASE_NAME).update(marked);
        }
      }
      if (namespace) {
        for (const stage of DELETION_STAGES) {
          found.set(stage.id, live.lists.filter((l) => stage.kinds.some((k) => k.kind === l.kind.kind)).flatMap((l) => l.items).filter(isManaged));
        }
      }
      // Deleting our namespace would delete everything in it: objects of the user's keep it.
      if (namespace && !result.foreignNamespace && !options.force) {
        const users = (await namespaceObjects(cluster, ns)).filter(isUserObject);
        if (users.length > 0) {
          result.keptFor = users;
          found.set('namespace', []);
        }
      }
      const total = [...found.values()].reduce((n, l) => n + l.length, 0);
      return total === 0
        ? `Nothing to remove: namespace ${ns} ${namespace ? 'holds no objects managed by todo-deploy' : 'does not exist'}`
        : `Found ${total} object(s) managed by todo-deploy in namespace ${ns}`;
    });
    for (const { stage, position } of stages) {
      const objects = found.get(stage.id) ?? [];
      const title = stageTitle({ stage, position });
      if (!cluster || objects.length === 0) {
        const isNamespace = stage.kinds.includes(NAMESPACE);
        const why =
          isNamespace && result.foreignNamespace ? `namespace ${ns} was not created by todo-deploy, so it is kept`
          : isNamespace && result.keptFor ? keptNamespaceText(ns, result.keptFor)
          : 'nothing to delete';
        exec.skip(stageId(stage), `${title}: ${why}`);
        continue;
      }
      await runStage(exec, downWork(stage, position, objects), { cluster, timeoutSeconds: config.readyTimeoutSeconds, hints: {} });
      result.removed += objects.length;
      if (objects.some((o) => o.kind === NAMESPACE.kind && o.metadata.name === ns)) result.namespaceGone = true;
    }
    // The release's records go with the stack, as `helm uninstall` removes them (with the namespace, when it goes).
    if (cluster && lock && !result.namespaceGone) await releaseStore(cluster, ns, RELEASE_NAME).removeAll();
    if (options.purge) {
      await exec.step(STEP.purge, async () => {
        result.purged = await provider.purge(pctx);
        return `Purge: ${result.purged}`;
      }, { timing: 'purge' });
    }
    exec.finish();
    return result;
  } catch (err) {
    exec.finish(err);
    // Stopped part-way: the record stays uninstalling and says how the run ended (it is gone
    // already when the namespace went; then there is nothing to write).
    if (lock && marked && !result.namespaceGone) {
      const stopped = uninstallStopped(marked, { reason: err instanceof Error ? err.message : String(err), interrupted: err instanceof Interrupted }, new Date());
      const written = await releaseStore(cluster!, ns, RELEASE_NAME).update(stopped).then(() => true, () => false);
      if (written && err instanceof Error) err.message = `${err.message}\nRevision ${marked.version} of ${marked.name} is marked uninstalling (the stack is partly removed); the lock is released. The next down finishes the removal, or up deploys again.`;
    }
    throw err;
  } finally {
    await lock?.release().catch(() => undefined);
  }
}
