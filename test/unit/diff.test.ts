// The diff engine (lib/diff.ts): planned objects against live ones as the API server returns
// them (defaults filled in, status, other managers' fields, managedFields), classified as
// create / update / unchanged / prune, with the changed fields and Secret values hidden.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { SECRET_VALUE, diffObjects, fieldChanges, hasChanges, objectKey, parseQuantity, pruneCandidates, summarize } from '../../lib/diff.ts';
import type { KubeObject } from '../../lib/types.ts';

const MANAGER = 'todo-deploy';
const LABELS = { 'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/part-of': 'todo' };

function plannedDeployment(overrides: { image?: string; env?: Array<{ name: string; value: string }>; cpu?: string; memory?: string; args?: string[] } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'backend', namespace: 'todo', labels: { ...LABELS } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'backend' } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'backend' } },
        spec: {
          containers: [
            {
              name: 'backend',
              image: overrides.image ?? 'todo-backend:1.0.0',
              args: overrides.args ?? ['--port', '8000'],
              ports: [{ containerPort: 8000 }],
              env: overrides.env ?? [{ name: 'LOG_LEVEL', value: 'info' }],
              resources: { limits: { cpu: overrides.cpu ?? '500m', memory: overrides.memory ?? '256Mi' } },
            },
          ],
        },
      },
    },
  };
}

/** What the API server returns for the planned object after our apply: defaults, status, managedFields. */
function liveFrom(planned: KubeObject, fieldsV1: unknown): KubeObject {
  const live = structuredClone(planned);
  live.metadata = {
    ...live.metadata,
    uid: '0b5f', resourceVersion: '4711', generation: 3, creationTimestamp: '2026-11-30T05:00:00Z',
    annotations: { 'deployment.kubernetes.io/revision': '3' },
    managedFields: [
      { manager: MANAGER, operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1 },
      { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } }, 'f:status': {} } },
    ],
  };
  live.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
  live.spec.revisionHistoryLimit = 10;
  const container = live.spec.template.spec.containers[0];
  container.imagePullPolicy = 'IfNotPresent';
  container.terminationMessagePath = '/dev/termination-log';
  container.ports[0].protocol = 'TCP';
  live.spec.template.spec.restartPolicy = 'Always';
  live.status = { replicas: 2, readyReplicas: 2, observedGeneration: 3 };
  return live;
}

/** Our manager's field set for plannedDeployment() with the given env names. */
function ownedFields(envNames: string[] = ['LOG_LEVEL']): unknown {
  return {
    'f:metadata': { 'f:labels': Object.fromEntries(Object.keys(LABELS).map((k) => [`f:${k}`, {}])) },
    'f:spec': {
      'f:replicas': {},
      'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/name': {} } },
        'f:spec': {
          'f:containers': {
            'k:{"name":"backend"}': {
              '.': {},
              'f:name': {},
              'f:image': {},
              'f:args': {},
              'f:ports': { 'k:{"containerPort":8000,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              'f:env': Object.fromEntries(envNames.map((n) => [`k:{"name":"${n}"}`, { '.': {}, 'f:name': {}, 'f:value': {} }])),
              'f:resources': { 'f:limits': { 'f:cpu': {}, 'f:memory': {} } },
            },
          },
        },
      },
    },
  };
}

const test = suite('diff: classifying the plan against the live objects');

test('absent live: create; the same object with the server defaults, status and others\' fields: unchanged', () => {
  const planned = plannedDeployment();
  assert.equal(diffObjects([planned], [], MANAGER).map((e) => e.action), ['create']);
  const entries = diffObjects([planned], [liveFrom(planned, ownedFields())], MANAGER);
  assert.equal(entries.map((e) => [e.action, e.changes]), [['unchanged', []]]);
  assert.not.ok(hasChanges(entries));
});

test('one image tag changed: exactly that field, from the live value to the planned one', () => {
  const live = liveFrom(plannedDeployment(), ownedFields());
  const [entry] = diffObjects([plannedDeployment({ image: 'todo-backend:1.0.1' })], [live], MANAGER);
  assert.is(entry!.action, 'update');
  assert.equal(entry!.changes, [{ path: 'spec.template.spec.containers[name=backend].image', change: 'changed', from: 'todo-backend:1.0.0', to: 'todo-backend:1.0.1' }]);
});

test('a field we applied before and the plan dropped is a removal; one another manager owns is not', () => {
  const live = liveFrom(plannedDeployment({ env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'OLD', value: 'x' }] }), ownedFields(['LOG_LEVEL', 'OLD']));
  const changes = fieldChanges(plannedDeployment(), live, MANAGER);
  assert.equal(changes, [{ path: 'spec.template.spec.containers[name=backend].env[name=OLD]', change: 'removed', from: { name: 'OLD', value: 'x' } }]);
  // The controller's revision annotation is live and not planned, but not ours: no change.
  assert.not.ok(changes.some((c) => c.path.includes('revision')));
});

test('quantities compare by amount (0.5 = 500m, 1024Mi = 1Gi); other differences in lists are changes', () => {
  const live = liveFrom(plannedDeployment({ cpu: '500m', memory: '1Gi' }), ownedFields());
  assert.equal(fieldChanges(plannedDeployment({ cpu: '0.5', memory: '1024Mi' }), live, MANAGER), []);
  assert.equal(fieldChanges(plannedDeployment({ cpu: '0.6', memory: '1Gi' }), live, MANAGER).map((c) => c.path), ['spec.template.spec.containers[name=backend].resources.limits.cpu']);
  const args = fieldChanges(plannedDeployment({ memory: '1Gi', args: ['--port', '8000', '--debug'] }), live, MANAGER);
  assert.equal(args, [{ path: 'spec.template.spec.containers[name=backend].args', change: 'changed', from: ['--port', '8000'], to: ['--port', '8000', '--debug'] }]);
  assert.is(parseQuantity('1Gi'), 2 ** 30);
  assert.is(parseQuantity('250m'), 0.25);
  assert.is(parseQuantity('12abc'), undefined);
});

test('a label added by the plan is an addition', () => {
  const live = liveFrom(plannedDeployment(), ownedFields());
  const planned = plannedDeployment();
  planned.metadata.labels!['app.kubernetes.io/version'] = '1.0.1';
  assert.equal(fieldChanges(planned, live, MANAGER), [{ path: 'metadata.labels.app.kubernetes.io/version', change: 'added', to: '1.0.1' }]);
});

test('Secret data: the changed key is named, its values never appear (raw or base64)', () => {
  const secretValue = 'sk-diff-test-secret-value-41';
  const newValue = 'sk-diff-test-secret-value-42';
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (value: string, extra: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'todo-secrets', namespace: 'todo', labels: { 'app.kubernetes.io/managed-by': 'todo-deploy' } },
    type: 'Opaque',
    data: { OPENAI_API_KEY: b64(value), ...extra },
  });
  const live = { ...secret(secretValue, { GONE_KEY: b64('old-secret-value-77') }), metadata: { ...secret(secretValue).metadata, managedFields: [{ manager: MANAGER, operation: 'Apply', fieldsV1: { 'f:data': { 'f:OPENAI_API_KEY': {}, 'f:GONE_KEY': {} }, 'f:type': {} } }] } };
  const entries = diffObjects([secret(newValue)], [live], MANAGER);
  assert.equal(entries[0]!.changes, [
    { path: 'data.OPENAI_API_KEY', change: 'changed', from: SECRET_VALUE, to: SECRET_VALUE },
    { path: 'data.GONE_KEY', change: 'removed', from: SECRET_VALUE },
  ]);
  const text = JSON.stringify(entries);
  for (const leaked of [secretValue, newValue, b64(secretValue), b64(newValue), 'old-secret-value-77', b64('old-secret-value-77')]) assert.not.ok(text.includes(leaked), `leaked ${leaked}`);
  // A Secret the cluster lacks entirely is a create: no values in it either.
  assert.not.ok(JSON.stringify(diffObjects([secret(newValue)], [], MANAGER)).includes(b64(newValue)));
});

test('prune: live managed objects the plan lacks, after the planned ones; a terminating object is re-created', () => {
  const planned = plannedDeployment();
  const stray: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'old-api', namespace: 'todo', labels: { 'app.kubernetes.io/managed-by': 'todo-deploy' } } };
  const live = liveFrom(planned, ownedFields());
  const entries = diffObjects([planned], [live, stray], MANAGER);
  assert.equal(entries.map((e) => `${e.action} ${e.kind}/${e.name}`), ['unchanged Deployment/backend', 'prune Service/old-api']);
  assert.equal(summarize(entries), { create: 0, update: 0, unchanged: 1, prune: 1 });
  assert.ok(hasChanges(entries));
  assert.equal(pruneCandidates([planned], [live, stray]), [stray]);
  const terminating = { ...live, metadata: { ...live.metadata, deletionTimestamp: '2026-11-30T05:01:00Z' } };
  assert.equal(diffObjects([planned], [terminating], MANAGER).map((e) => [e.action, e.terminating]), [['create', true]]);
});

test('identity is group, kind, namespace and name: another version of the same group is the same object', () => {
  const a: KubeObject = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'todo', namespace: 'todo' } };
  const b: KubeObject = { ...a, apiVersion: 'networking.k8s.io/v2' };
  assert.is(objectKey(a), objectKey(b));
  assert.equal(diffObjects([b], [a], MANAGER).map((e) => e.action), ['unchanged']);
});

test.run();
