// What the benchmark reads from the cluster around each measured step, outside the timed part:
// resourceVersions of the stack's objects (did a warm run write anything?), the tools' own
// records in `default` (Helm release Secrets, kapp app ConfigMaps), the order in which objects
// were created and deleted (a watch per kind, ordered by store revision), and the namespace
// being gone before a cold run.
import { PatchStrategy, Watch } from '@kubernetes/client-node';
import type { KubeObject } from '../lib/types.ts';
import type { Cluster } from '../lib/kube/client.ts';
import { listObjects } from '../lib/kube/apply.ts';
import { resourcePath, watchUntil } from '../lib/kube/watch.ts';
import { STAGES, stageOf, type KindRef } from '../lib/order.ts';

/** Every object of the stack carries this label in its manifest; Helm rewrites managed-by, so that label cannot be used. */
export const STACK_SELECTOR = 'app.kubernetes.io/part-of=todo';
/** Where helm and kapp keep their records (the release namespace / kapp's app namespace). */
export const RECORDS_NAMESPACE = 'default';

const STACK_KINDS: readonly KindRef[] = STAGES.flatMap((s) => s.kinds);
const NAMESPACE_KIND = STAGES[0].kinds[0];

/** id ("Kind namespace/name") -> resourceVersion. */
export type Snapshot = Map<string, string>;

const idOf = (kind: string, m: { namespace?: string; name?: string }) => `${kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`;

export async function stackSnapshot(cluster: Cluster): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const ref of STACK_KINDS) {
    const list = await listObjects(cluster, ref.apiVersion, ref.kind, undefined, STACK_SELECTOR);
    for (const o of list?.items ?? []) out.set(idOf(ref.kind, o.metadata), String(o.metadata.resourceVersion));
  }
  return out;
}

/** Secrets and ConfigMaps in `default` (the tools' bookkeeping), minus the cluster's own CA ConfigMap. */
export async function recordsSnapshot(cluster: Cluster): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const kind of ['Secret', 'ConfigMap']) {
    const list = await listObjects(cluster, 'v1', kind, RECORDS_NAMESPACE);
    for (const o of list?.items ?? []) if (o.metadata.name !== 'kube-root-ca.crt') out.set(idOf(kind, o.metadata), String(o.metadata.resourceVersion));
  }
  return out;
}

export interface SnapshotDiff {
  changed: string[];
  added: string[];
  removed: string[];
}

/** What differs between two snapshots. Pure. */
export function diffSnapshots(before: Snapshot, after: Snapshot): SnapshotDiff {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const [id, rv] of after) {
    if (!before.has(id)) added.push(id);
    else if (before.get(id) !== rv) changed.push(id);
  }
  for (const id of before.keys()) if (!after.has(id)) removed.push(id);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort() };
}

export function diffCount(d: SnapshotDiff): number {
  return d.changed.length + d.added.length + d.removed.length;
}

export async function namespaceExists(cluster: Cluster, namespace: string): Promise<boolean> {
  const list = await listObjects(cluster, 'v1', 'Namespace', undefined, undefined, `metadata.name=${namespace}`);
  return (list?.items.length ?? 0) > 0;
}

/** Waits by watch until the namespace no longer exists (also when it never did). */
export async function waitNamespaceGone(cluster: Cluster, namespace: string, deadlineMs: number): Promise<void> {
  await watchUntil(cluster, { kind: NAMESPACE_KIND, name: namespace }, (items) => ({ done: items.length === 0, progress: items[0]?.status?.phase }), {
    deadline: Date.now() + deadlineMs,
    goal: `namespace ${namespace} to be gone`,
  });
}

export interface StackEvent {
  type: 'ADDED' | 'DELETED';
  kind: string;
  id: string;
  /** Stage number of the data model's creation order. */
  stage: number;
  /** Store revision of the change: a total order across kinds. */
  revision: number;
}

export interface Recorder {
  events: StackEvent[];
  errors: string[];
  ready: Promise<void>;
  /** Resolves true once `done(events)` holds (checked now and after every event), false at the deadline. */
  until(done: (events: StackEvent[]) => boolean, deadlineMs: number): Promise<boolean>;
  stop(): void;
}

/** Records creations and deletions of the stack's objects, one watch per kind, until stopped. */
export function recordStack(cluster: Cluster): Recorder {
  const events: StackEvent[] = [];
  const errors: string[] = [];
  const controllers: AbortController[] = [];
  const listeners = new Set<() => void>();
  let stopped = false;
  const watchOne = async (ref: KindRef, resourceVersion?: string): Promise<void> => {
    let last = resourceVersion;
    const query: Record<string, string> = { labelSelector: STACK_SELECTOR };
    // Without a resourceVersion the watch starts with the objects that exist as ADDED: listed
    // first, so only later changes are recorded.
    if (!resourceVersion) {
      const list = await listObjects(cluster, ref.apiVersion, ref.kind, undefined, STACK_SELECTOR);
      last = list?.resourceVersion;
    }
    if (last) query.resourceVersion = last;
    const stage = stageOf(ref)!.number;
    const controller = await new Watch(cluster.kc).watch(
      resourcePath({ kind: ref }),
      query,
      (type, obj) => {
        last = obj?.metadata?.resourceVersion ?? last;
        if (type !== 'ADDED' && type !== 'DELETED') return;
        events.push({ type, kind: ref.kind, id: idOf(ref.kind, obj.metadata), stage, revision: Number(obj.metadata.resourceVersion) });
        for (const listener of listeners) listener();
      },
      (err) => {
        if (stopped) return;
        if (err) errors.push(`watch of ${ref.kind} ended: ${err}`);
        else void watchOne(ref, last).catch((e: Error) => errors.push(e.message));
      },
    );
    controllers.push(controller);
    if (stopped) controller.abort();
  };
  const ready = Promise.all(STACK_KINDS.map((ref) => watchOne(ref))).then(() => undefined);
  return {
    events,
    errors,
    ready,
    until(done, deadlineMs) {
      return new Promise((resolve) => {
        const finish = (value: boolean) => {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(value);
        };
        const check = () => {
          if (done(events)) finish(true);
        };
        const timer = setTimeout(() => finish(false), deadlineMs);
        listeners.add(check);
        check();
      });
    },
    stop() {
      stopped = true;
      for (const c of controllers) c.abort();
    },
  };
}

/**
 * How the recorded order compares with the data model's: every kind-level inversion, e.g.
 * "Deployment before Service" for creation (stages ascending) or "Namespace before Ingress"
 * for deletion (stages descending), each named once with how many object pairs showed it. Pure.
 */
export function orderInversions(events: StackEvent[], type: StackEvent['type']): string[] {
  const seen = new Map<string, StackEvent>();
  for (const e of [...events].sort((a, b) => a.revision - b.revision)) if (e.type === type && !seen.has(e.id)) seen.set(e.id, e);
  const sorted = [...seen.values()];
  const counts = new Map<string, number>();
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const [first, later] = [sorted[i], sorted[j]];
      const wrong = type === 'ADDED' ? later.stage < first.stage : later.stage > first.stage;
      if (!wrong) continue;
      const key = `${first.kind} before ${later.kind}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.entries()].map(([k, n]) => `${k} (${n})`);
}

/**
 * The kinds in the order their objects were created (or deleted), runs of one kind collapsed:
 * "Namespace, Secret, ServiceAccount ×5, Role ×4, …". Pure.
 */
export function kindSequence(events: StackEvent[], type: StackEvent['type']): string {
  const seen = new Set<string>();
  const kinds: string[] = [];
  for (const e of [...events].sort((a, b) => a.revision - b.revision)) {
    if (e.type !== type || seen.has(e.id)) continue;
    seen.add(e.id);
    kinds.push(e.kind);
  }
  const runs: [string, number][] = [];
  for (const k of kinds) {
    const last = runs[runs.length - 1];
    if (last && last[0] === k) last[1]++;
    else runs.push([k, 1]);
  }
  return runs.map(([k, n]) => (n > 1 ? `${k} ×${n}` : k)).join(', ');
}

/** The number of distinct objects with an event of this type. Pure. */
export function objectsWith(events: StackEvent[], type: StackEvent['type']): number {
  return new Set(events.filter((e) => e.type === type).map((e) => e.id)).size;
}

/**
 * Waits until the garbage collector tracks the stack's custom kinds (Dapr Configuration and
 * Component). Why: the control plane installs the Dapr CRDs while kube-controller-manager
 * starts; when the controller-manager's first discovery misses them, its garbage collector
 * learns of them only at the next discovery resync, 30 s later (seen in its log: the
 * "components.dapr.io" monitor appearing 29 s after "all resource monitors have synced").
 * Until then a delete with foreground propagation of a Dapr object cannot finish, and `down`
 * deletes that way, so it alone would pay for the cluster's youth (18-20 s in the first
 * run). The probe: one object of each kind in a scratch namespace, deleted with foreground
 * propagation; done when both are gone. Returns how long that took (reported, untimed).
 */
export async function settleGarbageCollector(cluster: Cluster, samples: KubeObject[], deadlineMs = 120_000): Promise<{ foregroundMs: number }> {
  const namespace = 'bench-gc-settle';
  const deadline = Date.now() + deadlineMs;
  const api = cluster.objects;
  const nsObject: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  await api.patch(nsObject, undefined, undefined, 'todo-deploy-bench', true, PatchStrategy.ServerSideApply);
  const probes = samples.map((o): KubeObject => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: 'gc-settle', namespace }, ...(o.spec ? { spec: o.spec } : {}) }));
  for (const o of probes) await api.patch(o, undefined, undefined, 'todo-deploy-bench', true, PatchStrategy.ServerSideApply);
  const deleting = Date.now();
  for (const o of probes) {
    await api.delete(o, undefined, undefined, undefined, undefined, 'Foreground');
    const ref = stageOf(o)?.kinds.find((k) => k.kind === o.kind);
    if (!ref) throw new Error(`settling: ${o.kind} is not a kind of the creation order`);
    await watchUntil(cluster, { kind: ref, namespace, name: 'gc-settle' }, (items) => ({ done: items.length === 0 }), { deadline, goal: `${o.kind} ${namespace}/gc-settle to be deleted (foreground)` });
  }
  const foregroundMs = Date.now() - deleting;
  await api.delete(nsObject);
  await waitNamespaceGone(cluster, namespace, Math.max(deadline - Date.now(), 1000));
  return { foregroundMs };
}
