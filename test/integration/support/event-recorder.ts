// Records what happens to the stack's objects in a real cluster: one watch per kind,
// limited to objects labelled app.kubernetes.io/managed-by=todo-deploy, started before the
// command under test runs. Each event keeps the object's resourceVersion, which on an
// etcd-backed API server is the store revision of that change: a total order across kinds,
// which the arrival order of separate watch streams is not.

import { Watch, type KubeConfig } from '@kubernetes/client-node';

export const MANAGED = 'app.kubernetes.io/managed-by=todo-deploy';

/** The stack's kinds in the creation order the issue and the data model give, with their collection paths. */
export const STACK_KINDS = [
  { stage: 1, kind: 'Namespace', path: '/api/v1/namespaces' },
  { stage: 2, kind: 'Secret', path: '/api/v1/secrets' },
  { stage: 3, kind: 'ServiceAccount', path: '/api/v1/serviceaccounts' },
  { stage: 4, kind: 'Role', path: '/apis/rbac.authorization.k8s.io/v1/roles' },
  { stage: 4, kind: 'RoleBinding', path: '/apis/rbac.authorization.k8s.io/v1/rolebindings' },
  { stage: 5, kind: 'Configuration', path: '/apis/dapr.io/v1alpha1/configurations' },
  { stage: 6, kind: 'Component', path: '/apis/dapr.io/v1alpha1/components' },
  { stage: 7, kind: 'NetworkPolicy', path: '/apis/networking.k8s.io/v1/networkpolicies' },
  { stage: 8, kind: 'Service', path: '/api/v1/services' },
  { stage: 9, kind: 'Deployment', path: '/apis/apps/v1/deployments' },
  { stage: 10, kind: 'Ingress', path: '/apis/networking.k8s.io/v1/ingresses' },
] as const;

export interface RecordedEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  kind: string;
  stage: number;
  /** namespace/name, or name for cluster-scoped objects. */
  id: string;
  revision: number;
  /** The object as the event carried it. */
  object: any;
}

export interface EventRecorder {
  readonly events: RecordedEvent[];
  /** Watches that failed (a broken recording; the test should fail on any). */
  readonly errors: string[];
  /** Resolves once every watch is established (events from then on are recorded). */
  readonly ready: Promise<void>;
  stop(): void;
}

export function recordStackEvents(kc: KubeConfig): EventRecorder {
  const events: RecordedEvent[] = [];
  const errors: string[] = [];
  const controllers: AbortController[] = [];
  let stopped = false;

  const watchOne = (ref: (typeof STACK_KINDS)[number], resourceVersion?: string): Promise<void> => {
    let last = resourceVersion;
    // A fresh cluster has none of our objects, so on the first watch every ADDED is a creation.
    // A watch the server ends is resumed from the last revision seen, so nothing is listed twice.
    const query: Record<string, string> = { labelSelector: MANAGED };
    if (resourceVersion) query.resourceVersion = resourceVersion;
    return new Watch(kc)
      .watch(
        ref.path,
        query,
        (type, obj) => {
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          const m = obj.metadata;
          last = m.resourceVersion;
          events.push({ type, kind: ref.kind, stage: ref.stage, id: m.namespace ? `${m.namespace}/${m.name}` : m.name, revision: Number(m.resourceVersion), object: obj });
        },
        (err) => {
          if (stopped) return;
          if (err) errors.push(`watch of ${ref.path} ended: ${err}`);
          else void watchOne(ref, last);
        },
      )
      .then((c) => {
        controllers.push(c);
        if (stopped) c.abort();
      });
  };

  const ready = Promise.all(STACK_KINDS.map((ref) => watchOne(ref))).then(() => undefined);
  return {
    events,
    errors,
    ready,
    stop() {
      stopped = true;
      for (const c of controllers) c.abort();
    },
  };
}

/** Every pair of consecutive changes (by store revision) whose stages go the wrong way, as sentences. */
export function outOfOrder(events: RecordedEvent[], direction: 'ascending' | 'descending'): string[] {
  const sorted = [...events].sort((a, b) => a.revision - b.revision);
  const problems: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    const wrong = direction === 'ascending' ? cur.stage < prev.stage : cur.stage > prev.stage;
    if (wrong) problems.push(`${cur.kind} ${cur.id} (stage ${cur.stage}, revision ${cur.revision}) came after ${prev.kind} ${prev.id} (stage ${prev.stage}, revision ${prev.revision})`);
  }
  return problems;
}
