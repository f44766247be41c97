// `npm run status` (lib/status.ts): each entity's state in the words of its state-transition
// diagram, from objects shaped as the API returns them.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { age, formatStatusTable, podState, statusReport } from '../../lib/status.ts';
import type { HelmRelease } from '../../lib/release/helm-codec.ts';
import type { KubeObject } from '../../lib/types.ts';

const o = (kind: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'todo', labels: { app: name } }, ...extra });
const cs = (extra: Record<string, unknown>) => [{ name: 'app', restartCount: 0, ...extra }];
const ready = { type: 'Ready', status: 'True' };

const pods = suite('status: pod states');

pods('Pending, ContainerCreating, Running, Ready, Restarting', () => {
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Pending' } })).state, 'Pending');
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Pending', containerStatuses: cs({ state: { waiting: { reason: 'ContainerCreating' } } }) } })).state, 'ContainerCreating');
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Running', containerStatuses: cs({ state: { running: {} } }) } })).state, 'Running');
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Running', conditions: [ready], containerStatuses: cs({ ready: true }) } })).state, 'Ready');
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Running', containerStatuses: cs({ restartCount: 2, state: { running: {} } }) } })).state, 'Restarting');
  assert.is(podState(o('Pod', 'p', { metadata: { name: 'p', deletionTimestamp: 'x' }, status: { phase: 'Running' } })).state, 'Terminating');
});

pods('ImagePullBackOff (and its kin), CrashLoopBackOff, OOMKilled', () => {
  for (const reason of ['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull']) {
    assert.is(podState(o('Pod', 'p', { status: { phase: 'Pending', containerStatuses: cs({ state: { waiting: { reason } } }) } })).state, 'ImagePullBackOff');
  }
  assert.is(podState(o('Pod', 'p', { status: { phase: 'Running', containerStatuses: cs({ restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error' } } }) } })).state, 'CrashLoopBackOff');
  const oom = podState(o('Pod', 'p', { status: { phase: 'Running', containerStatuses: cs({ restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'OOMKilled' } } }) } }));
  assert.equal(oom, { state: 'OOMKilled', detail: 'container app, 2 restart(s)' });
});

const report = suite('status: every entity');

const release = (version: number, status: HelmRelease['info']['status'], rollback?: number): HelmRelease => ({
  name: 'todo-app',
  namespace: 'todo',
  version,
  chart: { metadata: { name: 'todo-app', version: '0.1.0', apiVersion: 'v2' }, lock: null, templates: [], values: {}, schema: null, files: [] },
  config: {},
  manifest: '',
  info: { status, last_deployed: '2026-01-01T00:00:00Z', description: 'Upgrade complete', rollback_revision: rollback },
});

function cluster(backendReady: boolean) {
  const deployment = (name: string, readyReplicas: number) =>
    o('Deployment', name, { metadata: { name, namespace: 'todo', generation: 1 }, spec: { replicas: 1, selector: { matchLabels: { app: name } } }, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas, availableReplicas: readyReplicas, unavailableReplicas: 1 - readyReplicas } });
  const pod = (name: string, app: string, isReady: boolean) => ({ ...o('Pod', name, { spec: { serviceAccountName: `${app}-sa`, containers: [{ name: 'app', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'todo-secrets', key: 'k' } } }] }] }, status: { phase: 'Running', conditions: isReady ? [ready] : [], containerStatuses: cs({ ready: isReady, state: { running: {} } }) } }), metadata: { name, namespace: 'todo', labels: { app } } });
  return {
    namespace: 'todo',
    objects: [
      o('Namespace', 'todo', { status: { phase: 'Active' } }),
      o('Secret', 'todo-secrets', { data: { b: 'x', a: 'y' } }),
      o('ServiceAccount', 'backend-sa'),
      o('ServiceAccount', 'unused-sa'),
      o('Role', 'r'),
      o('RoleBinding', 'rb'),
      { ...o('Configuration', 'dapr-config', { spec: { mtls: { enabled: true } } }), apiVersion: 'dapr.io/v1alpha1' },
      { ...o('Component', 'statestore', { spec: { type: 'state.redis' }, scopes: ['backend'] }), apiVersion: 'dapr.io/v1alpha1' },
      o('NetworkPolicy', 'deny-all'),
      o('Service', 'backend-svc', { spec: { selector: { app: 'backend' } } }),
      o('Service', 'frontend-svc', { spec: { selector: { app: 'frontend' } } }),
      deployment('backend', backendReady ? 1 : 0),
      deployment('frontend', 1),
      { ...o('Ingress', 'todo-ingress', { spec: { rules: [{ host: 'todo.local' }] }, status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } }), apiVersion: 'networking.k8s.io/v1' },
    ],
    pods: [pod('backend-1', 'backend', backendReady), pod('frontend-1', 'frontend', true)],
    endpointSlices: [{ ...o('EndpointSlice', 'frontend-svc-x'), metadata: { name: 'frontend-svc-x', labels: { 'kubernetes.io/service-name': 'frontend-svc' } }, endpoints: [{ conditions: { ready: true } }] }],
    history: [release(1, 'superseded'), release(2, 'deployed')],
  };
}

const state = (r: ReturnType<typeof statusReport>, kind: string, name: string) => r.entities.find((e) => e.kind === kind && e.name === name)?.state;

report('a healthy stack: Running configuration, Healthy components, Ready pods, Endpoints Available, Address Assigned', () => {
  const r = statusReport(cluster(true));
  assert.equal(r.release, { name: 'todo-app', revision: 2, status: 'deployed', updated: '2026-01-01T00:00:00Z', description: 'Upgrade complete', chart: 'todo-app-0.1.0' });
  assert.is(state(r, 'Namespace', 'todo'), 'Running');
  assert.is(r.entities[0]!.entity, 'Deployment Configuration');
  assert.is(state(r, 'Secret', 'todo-app'), 'deployed', 'the Helm Release row');
  assert.is(state(r, 'Deployment', 'backend'), 'Healthy');
  assert.is(state(r, 'Pod', 'backend-1'), 'Ready');
  assert.is(state(r, 'Service', 'frontend-svc'), 'Endpoints Available');
  assert.is(state(r, 'Service', 'backend-svc'), 'No Endpoints');
  assert.is(state(r, 'Ingress', 'todo-ingress'), 'Address Assigned');
  assert.is(state(r, 'ServiceAccount', 'backend-sa'), 'Mounted in Pod');
  assert.is(state(r, 'ServiceAccount', 'unused-sa'), 'Created');
  assert.is(state(r, 'Secret', 'todo-secrets'), 'Mounted in Pod');
  assert.is(state(r, 'Component', 'statestore'), 'Applied');
  assert.is(state(r, 'NetworkPolicy', 'deny-all'), 'Applied');
  assert.is(state(r, 'RoleBinding', 'rb'), 'Applied');
  assert.is(r.entities.find((e) => e.kind === 'Secret' && e.name === 'todo-secrets')?.detail, 'keys: a, b', 'key names only, never values');
});

report('a component still rolling out leaves the configuration Applied; a failed or rolled-back revision says so; an answering Ingress is Accessible', () => {
  assert.is(state(statusReport(cluster(false)), 'Namespace', 'todo'), 'Applied');
  assert.is(state(statusReport(cluster(false)), 'Deployment', 'backend'), 'Deployed');
  assert.is(state(statusReport({ ...cluster(true), history: [release(1, 'deployed'), release(2, 'failed')] }), 'Namespace', 'todo'), 'Failed');
  assert.is(state(statusReport({ ...cluster(true), history: [release(3, 'deployed', 1)] }), 'Namespace', 'todo'), 'Rolledback');
  assert.is(state(statusReport({ ...cluster(true), reachable: { 'todo-ingress': true } }), 'Ingress', 'todo-ingress'), 'Accessible');
});

report('the table names the release, its age, and one row per entity', () => {
  const text = formatStatusTable(statusReport(cluster(true)), new Date('2026-01-01T00:05:00Z'));
  assert.match(text, /^Release todo-app in namespace todo: revision 2, deployed, 5m ago \(todo-app-0\.1\.0\)/);
  assert.match(text, /ENTITY\s+OBJECT\s+STATE\s+DETAIL/);
  assert.match(text, /Kubernetes Pod\s+Pod\/backend-1\s+Ready/);
  assert.is(age('2026-01-01T00:00:00Z', new Date('2026-01-03T00:00:00Z')), '2d');
});

pods.run();
report.run();
