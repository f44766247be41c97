// Fail fast while Dapr installs and starts. helm's `--wait` (and the Dapr CLI's) waits its whole
// timeout for a control plane whose pods crash-loop, and says only "context deadline exceeded"
// at the end. So the Dapr step watches the pods of dapr-system beside the install and its own
// wait, judges each as the stack's Deployment gates do (lib/failfast.ts: CrashLoopBackOff,
// ImagePullBackOff, repeated OOMKilled, ...), and on the first pod that waiting will not heal
// stops the install (helm is killed through the step's signal) and fails the step naming the
// pod, the container, the reason and the container's last log lines.
import { DeployError } from '../errors.ts';
import { rolloutBlocker, type Blocker } from '../failfast.ts';
import { KINDS } from '../kinds.ts';
import type { Cluster } from '../kube/client.ts';
import { containerLogTail } from '../kube/diagnose.ts';
import { watchUntil } from '../kube/watch.ts';
import type { KubeObject } from '../types.ts';
import type { ContainerStatus } from '../diagnose.ts';
import { DAPR_NAMESPACE } from './dapr.ts';
import type { ClusterContext } from './provider.ts';

/** Log lines of the failing container the error shows. */
export const DAPR_LOG_LINES = 15;
/**
 * Restarts after which a Dapr container in CrashLoopBackOff counts as crash-looping. Some of
 * Dapr's programs exit while their peers start: on the real node a scheduler replica (an
 * embedded etcd member) restarted twice while the other two came up, then ran; a container that
 * has crashed three times (back-offs of 10, 20 and 40 s) is not starting up.
 */
export const DAPR_CRASH_RESTARTS = 3;

/**
 * The first pod of dapr-system that waiting will not heal (pods by name; one on its way out does
 * not count; a container in CrashLoopBackOff only from its DAPR_CRASH_RESTARTS-th restart). Every
 * pod there is Dapr's, so every pod counts, whichever workload or revision it belongs to. Pure.
 */
export function daprBlocker(pods: readonly KubeObject[], now: Date): Blocker | undefined {
  const restarts = (pod: KubeObject, container: string | undefined) =>
    ((pod.status?.containerStatuses as ContainerStatus[] | undefined) ?? []).concat((pod.status?.initContainerStatuses as ContainerStatus[] | undefined) ?? []).find((c) => c.name === container)?.restartCount ?? 0;
  const settling = (pod: KubeObject) => {
    const b = rolloutBlocker([pod], now);
    return b?.reason === 'CrashLoopBackOff' && restarts(pod, b.container) < DAPR_CRASH_RESTARTS;
  };
  return rolloutBlocker(pods.filter((p) => !settling(p)), now);
}

/**
 * The Dapr step's error for a hopeless pod: pod, container, reason, the kubelet's words, the
 * container's last log lines (its previous run's, for a crash loop), and the fix; `kubectl` is
 * the command that reaches the cluster (`kubectl --context X`). Pure.
 */
export function daprBlockerMessage(b: Blocker, logTail: string, kubectl: string): string {
  const where = `pod ${DAPR_NAMESPACE}/${b.pod}${b.container ? `, container ${b.container}` : ''}`;
  const logs = logTail.trim()
    ? `\nIts last log lines:\n${logTail.trimEnd().split('\n').map((l) => `  ${l}`).join('\n')}`
    : b.container
      ? '\nIt wrote no log lines.'
      : '';
  const logsCommand = b.container ? ` and \`${kubectl} -n ${DAPR_NAMESPACE} logs ${b.pod} -c ${b.container}${b.reason === 'CrashLoopBackOff' || b.reason === 'OOMKilled' ? ' --previous' : ''}\`` : '';
  return (
    `The Dapr control plane failed: ${where}: ${b.reason}${b.message ? ` (${b.message})` : ''}. Waiting will not heal this, so the Dapr step stopped its install and its wait now instead of at their deadline.` +
    `${logs}\nNo Deployment of the stack was applied (a pod created before the sidecar injector is ready gets no Dapr sidecar). ` +
    `Fix: look at \`${kubectl} -n ${DAPR_NAMESPACE} describe pod ${b.pod}\`${logsCommand}, fix the cause, then run up again.`
  );
}

/**
 * Runs `work` (the install and the wait) with a signal that aborts when a pod of dapr-system
 * shows a state waiting will not heal; then waits for `work` to end and throws the DeployError
 * of daprBlockerMessage. Otherwise returns what `work` returns (or throws what it throws).
 */
export async function withDaprFailFast<T>(cluster: Cluster, ctx: Pick<ClusterContext, 'signal'>, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stopWork = new AbortController();
  const stopWatch = new AbortController();
  const workSignal = ctx.signal ? AbortSignal.any([ctx.signal, stopWork.signal]) : stopWork.signal;
  const watchSignal = ctx.signal ? AbortSignal.any([ctx.signal, stopWatch.signal]) : stopWatch.signal;
  let found: { blocker: Blocker; pod: KubeObject } | undefined;
  const watching = watchUntil(
    cluster,
    { kind: KINDS.Pod.ref, namespace: DAPR_NAMESPACE },
    (pods) => {
      const blocker = daprBlocker(pods, new Date());
      if (!blocker) return { done: false };
      found = { blocker, pod: pods.find((p) => p.metadata.name === blocker.pod)! };
      stopWork.abort();
      return { done: true };
    },
    // `work` has the deadlines (helm's --timeout, the wait's), and its end stops this watch; a day
    // only bounds it (a timer longer than 2^31 ms would fire at once).
    { deadline: Date.now() + 86_400_000, signal: watchSignal, goal: `the pods of ${DAPR_NAMESPACE} (fail fast)` },
  ).catch(() => undefined); // stopped, or the watch failed: the install and its wait still decide
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await work(workSignal) };
  } catch (error) {
    outcome = { error };
  }
  stopWatch.abort();
  await watching;
  // A hopeless pod explains the install's failure (helm killed, the wait aborted) better than it does.
  if (!found) {
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }
  const { blocker, pod } = found;
  const tail = blocker.container ? await containerLogTail(cluster, pod, blocker.container, DAPR_LOG_LINES) : '';
  throw new DeployError(daprBlockerMessage(blocker, tail, `kubectl --context ${cluster.context}`));
}
