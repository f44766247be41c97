// Fail fast: the pod states that waiting will not heal. A Deployment gate stops as soon as a pod
// of the rollout shows one, instead of at the deadline (Helm waits its whole --timeout on a
// CrashLoopBackOff). Pure: pods and a clock in, the first hopeless container out.
import type { KubeObject } from './types.ts';
import type { ContainerStatus } from './diagnose.ts';

/** Waiting reasons a kubelet reports for a container that will not start by itself. */
export const HOPELESS_WAITING = ['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError'] as const;
/** OOMKilled this many times (restarts) counts as repeated: the limit is too small, not a fluke. */
export const OOM_RESTARTS = 2;
/** How long a pod may stay Unschedulable before it counts (the scheduler may still find room as others leave). */
export const UNSCHEDULABLE_GRACE_MS = 15_000;

export interface Blocker {
  pod: string;
  /** The container, when the reason is one container's. */
  container?: string;
  reason: string;
  /** The kubelet's or scheduler's own words. */
  message?: string;
}

type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };

/** The ReplicaSet hash of a Deployment's newest pods, from the pod-template-hash label. */
export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

/**
 * Why a pod will not become ready without a change, or undefined while waiting may still help.
 * `now` is compared with the Unschedulable condition's transition time for the grace.
 */
export function podBlocker(pod: KubeObject, now: Date, unschedulableGraceMs = UNSCHEDULABLE_GRACE_MS): Blocker | undefined {
  if (pod.metadata.deletionTimestamp) return undefined; // an old pod on its way out
  const name = pod.metadata.name;
  const statuses = [...((pod.status?.initContainerStatuses as ContainerStatus[]) ?? []), ...((pod.status?.containerStatuses as ContainerStatus[]) ?? [])];
  for (const c of statuses) {
    const last = c.lastState?.terminated;
    if (last?.reason === 'OOMKilled' && (c.restartCount ?? 0) >= OOM_RESTARTS) {
      return { pod: name, container: c.name, reason: 'OOMKilled', message: `killed for exceeding its memory limit, ${c.restartCount} restarts${c.state?.waiting?.reason ? `; now ${c.state.waiting.reason}` : ''}` };
    }
    const waiting = c.state?.waiting;
    if (waiting?.reason && (HOPELESS_WAITING as readonly string[]).includes(waiting.reason)) {
      const exit = waiting.reason === 'CrashLoopBackOff' && last ? ` (last exit ${last.exitCode ?? '?'}${last.reason ? `, ${last.reason}` : ''})` : '';
      return { pod: name, container: c.name, reason: waiting.reason, message: `${waiting.message ?? ''}${exit}`.trim() || undefined };
    }
  }
  const scheduled = ((pod.status?.conditions as Condition[] | undefined) ?? []).find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const since = scheduled.lastTransitionTime ? Date.parse(scheduled.lastTransitionTime) : NaN;
    if (Number.isFinite(since) && now.getTime() - since >= unschedulableGraceMs) return { pod: name, reason: 'Unschedulable', message: scheduled.message };
  }
  return undefined;
}

/**
 * The first hopeless pod of a rollout. Only pods of the newest template count (their
 * pod-template-hash is `newestHash`, when known): an old pod that crashes is what the rollout
 * replaces.
 */
export function rolloutBlocker(pods: readonly KubeObject[], now: Date, newestHash?: string, unschedulableGraceMs = UNSCHEDULABLE_GRACE_MS): Blocker | undefined {
  const current = newestHash ? pods.filter((p) => p.metadata.labels?.[TEMPLATE_HASH_LABEL] === newestHash) : pods;
  for (const pod of [...current].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const blocker = podBlocker(pod, now, unschedulableGraceMs);
    if (blocker) return blocker;
  }
  return undefined;
}

/** The newest ReplicaSet of a Deployment (its revision annotation equals the Deployment's), by its template hash. */
export function newestTemplateHash(deployment: KubeObject, replicaSets: readonly KubeObject[]): string | undefined {
  const revision = deployment.metadata.annotations?.['deployment.kubernetes.io/revision'];
  const owned = replicaSets.filter((rs) => (rs.metadata.ownerReferences as Array<{ uid?: string }> | undefined)?.some((o) => o.uid === deployment.metadata.uid));
  const newest = revision ? owned.find((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision) : undefined;
  return newest?.metadata.labels?.[TEMPLATE_HASH_LABEL];
}

/** One line for the failure: Deployment, pod, container, reason, the kubelet's words. Pure. */
export function blockerLine(deployment: string, b: Blocker): string {
  return `Deployment ${deployment}: pod ${b.pod}${b.container ? `, container ${b.container}` : ''}: ${b.reason}${b.message ? ` (${b.message})` : ''}. Waiting will not heal this, so the gate failed now instead of at its deadline.`;
}
