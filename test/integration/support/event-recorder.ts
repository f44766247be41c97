// Records what happens to the stack's objects in a real cluster: one watch per kind,
// limited to objects labelled app.kubernetes.io/managed-by=todo-deploy, started before the
// command under test runs. Each event keeps the object's resourceVersion, which on an
// etcd-backed API server is the store revision of that change: a total order across kinds,
// which the arrival order of separate watch streams is not.

import { KubernetesObjectApi, Watch, type KubeConfig } from '@kubernetes/client-node';

export const MANAGED = 'app.kubernetes.io/managed-by=todo-deploy';

/** The stack's kinds in the creation order the issue and the data model give, with their collection paths. */
const kindAt = (stage: number, apiVersion: string, kind: string, plural: string) => ({
  stage,
  apiVersion,
  kind,
  path: `${apiVersion === 'v1' ? '/api/v1' : `/apis/${apiVersion}`}/${plural}`,
});

export const STACK_KINDS = [
  kindAt(1, 'v1', 'Namespace', 'namespaces'),
  kindAt(2, 'v1', 'Secret', 'secrets'),
  kindAt(3, 'v1', 'ServiceAccount', 'serviceaccounts'),
  kindAt(4, 'rbac.authorization.k8s.io/v1', 'Role', 'roles'),
  kindAt(4, 'rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings'),
  kindAt(5, 'dapr.io/v1alpha1', 'Configuration', 'configurations'),
  kindAt(6, 'dapr.io/v1alpha1', 'Component', 'components'),
  kindAt(7, 'networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies'),
  kindAt(8, 'v1', 'Service', 'services'),
  kindAt(9, 'apps/v1', 'Deployment', 'deployments'),
  kindAt(10, 'networking.k8s.io/v1', 'Ingress', 'ingresses'),
];
type StackKind = (typeof STACK_KINDS)[number];

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
  const api = KubernetesObjectApi.makeApiClient(kc);
  let stopped = false;

  // Each kind is listed once, then watched from the list's revision. The client ends a watch
  // after 30 s without data, and the server ends them now and then: the watch is resumed from
  // the last revision it delivered (events or bookmarks), so no change is missed or repeated.
  const watchFrom = (ref: StackKind, resourceVersion: string): Promise<void> => {
    let last = resourceVersion;
    return new Watch(kc)
      .watch(
        ref.path,
        { labelSelector: MANAGED, resourceVersion, allowWatchBookmarks: true },
        (type, obj) => {
          if (type === 'ERROR') {
            errors.push(`watch of ${ref.path}: ${obj?.message ?? JSON.stringify(obj)}`);
            return;
          }
          last = obj?.metadata?.resourceVersion ?? last;
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          const m = obj.metadata;
          events.push({ type, kind: ref.kind, stage: ref.stage, id: m.namespace ? `${m.namespace}/${m.name}` : m.name, revision: Number(m.resourceVersion), object: obj });
        },
        () => {
          if (!stopped) void watchFrom(ref, last);
        },
      )
      .then((c) => {
        controllers.push(c);
        if (stopped) c.abort();
      })
      .catch((err) => {
        errors.push(`watch of ${ref.path} could not start: ${(err as Error).message}`);
      });
  };

  // The first list of a kind goes through the client's API discovery, which can briefly miss a
  // group whose CRDs were established a moment ago: retry a few times with a growing pause.
  const listWithRetry = async (ref: StackKind) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api.list(ref.apiVersion, ref.kind, undefined, undefined, undefined, undefined, undefined, MANAGED);
      } catch (err) {
        if (attempt >= 8) throw new Error(`listing ${ref.kind} for the recorder failed ${attempt} times: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  };

  const start = async (ref: StackKind) => {
    const list = await listWithRetry(ref);
    // Objects that already exist are not events of the command under test.
    await watchFrom(ref, list.metadata!.resourceVersion!);
  };

  const ready = Promise.all(STACK_KINDS.map(start)).then(() => undefined);
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
