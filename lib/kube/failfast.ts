// Fail fast, the watching half: while a Deployment's gate waits, its pods are watched too, and
// the gate fails as soon as a pod of the newest template shows a state waiting will not heal
// (lib/failfast.ts judges). The newest template is the ReplicaSet whose revision is the
// Deployment's, read when a hopeless pod is seen (by then the controller has made both).
import { KINDS } from '../kinds.ts';
import { blockerLine, newestTemplateHash, podBlocker, UNSCHEDULABLE_GRACE_MS, type Blocker } from '../failfast.ts';
import { selectorOf } from '../diagnose.ts';
import type { KubeObject } from '../types.ts';
import type { Cluster } from './client.ts';
import { listObjects } from './apply.ts';
import { GateFailed, watchUntil } from './watch.ts';

const REPLICA_SET = { apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true };
/** How soon a hopeless pod is looked at again while the Deployment controller catches up. */
const CATCH_UP_MS = 250;

export interface RolloutBlocked extends GateFailed {
  blocker: Blocker;
}

export interface FailFastOptions {
  deadline: number;
  signal: AbortSignal;
  unschedulableGraceMs?: number;
  /** Told when a pod first shows a hopeless state, before it is confirmed as the rollout's (tests measure from here). */
  onSeen?: (blocker: Blocker) => void;
}

/**
 * Resolves when the signal aborts (the gate ended by itself); rejects with a GateFailed naming the
 * Deployment, pod, container and reason as soon as a pod of the rollout is hopeless.
 */
export function watchRolloutBlockers(cluster: Cluster, deployment: KubeObject, options: FailFastOptions): Promise<void> {
  const ns = deployment.metadata.namespace;
  const name = deployment.metadata.name;
  const selector = selectorOf(deployment);
  const grace = options.unschedulableGraceMs ?? UNSCHEDULABLE_GRACE_MS;
  if (!selector) return new Promise((resolve) => options.signal.addEventListener('abort', () => resolve(), { once: true }));
  const local = new AbortController();
  const signal = AbortSignal.any([options.signal, local.signal]);
  let pods: KubeObject[] = [];
  let checking = false;
  let again = false;
  let graceTimer: NodeJS.Timeout | undefined;
  let catchUpTimer: NodeJS.Timeout | undefined;
  let found: ((err: GateFailed) => void) | undefined;
  const seen = new Set<string>();

  /** Confirms hopeless pods against the newest ReplicaSet (one list of each, only when one is seen). */
  const verify = async () => {
    if (signal.aborted) return;
    if (checking) {
      again = true; // an event during a look: look once more when it is done
      return;
    }
    const now = new Date();
    const hopeless = pods.map((p) => ({ pod: p, blocker: podBlocker(p, now, grace) })).filter((x) => x.blocker);
    for (const h of hopeless) {
      const key = `${h.pod.metadata.name}/${h.blocker!.reason}`;
      if (!seen.has(key)) {
        seen.add(key);
        options.onSeen?.(h.blocker!);
      }
    }
    // An Unschedulable pod still in its grace: look again when the grace ends (no event may come).
    const waiting = pods.find((p) => p.status?.conditions?.some((c: { type: string; status: string; reason?: string }) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'));
    if (waiting && !graceTimer) graceTimer = setTimeout(() => ((graceTimer = undefined), void verify()), grace + 100).unref();
    if (hopeless.length === 0) return;
    checking = true;
    try {
      const [current, sets] = await Promise.all([
        listObjects(cluster, KINDS.Deployment.ref.apiVersion, KINDS.Deployment.ref.kind, ns, undefined, `metadata.name=${name}`),
        listObjects(cluster, REPLICA_SET.apiVersion, REPLICA_SET.kind, ns, selector),
      ]);
      const d = current?.items[0];
      // Until the controller has seen the applied spec, its revision annotation still names the
      // template before (a rollback's first moments): look again shortly, do not judge yet.
      if (!d || (d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 1)) {
        if (!catchUpTimer) catchUpTimer = setTimeout(() => ((catchUpTimer = undefined), void verify()), CATCH_UP_MS).unref();
        return;
      }
      const hash = newestTemplateHash(d, sets?.items ?? []);
      const mine = hopeless.find((h) => hash !== undefined && h.pod.metadata.labels?.['pod-template-hash'] === hash);
      if (mine && found) {
        const err = new GateFailed(blockerLine(`${ns}/${name}`, mine.blocker!), pods) as RolloutBlocked;
        err.blocker = mine.blocker!;
        found(err);
      }
    } catch {
      // A failed look is not a verdict: the gate keeps waiting, and the next pod event looks again.
    } finally {
      checking = false;
      if (again) {
        again = false;
        void verify();
      }
    }
  };

  return new Promise<void>((resolve, reject) => {
    found = (err) => {
      local.abort();
      reject(err);
    };
    watchUntil(
      cluster,
      { kind: KINDS.Pod.ref, namespace: ns, labelSelector: selector },
      (items) => {
        pods = items;
        void verify();
        return { done: false };
      },
      { deadline: options.deadline, signal, goal: `the pods of Deployment ${ns}/${name} (fail fast)` },
    ).then(
      () => resolve(),
      () => {
        // Aborted (the gate ended, or a blocker was found and reported), past the deadline, or the
        // watch failed: the gate itself says what happened; this watcher only ever adds a reason.
        clearTimeout(graceTimer);
        clearTimeout(catchUpTimer);
        resolve();
      },
    );
  });
}
