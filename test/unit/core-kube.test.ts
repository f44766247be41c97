// The pure parts of lib/kube: REST paths for watches, and the sentences API and network errors
// become (the API server's own message, the Dapr CRDs missing, an unreachable server).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { resourcePath } from '../../lib/kube/watch.ts';
import { apiMessage, statusCode, applyError, propagationFor } from '../../lib/kube/apply.ts';
import { networkCause, unreachableError, type Cluster } from '../../lib/kube/client.ts';
import { fromAggregated } from '../../lib/kube/namespace-objects.ts';
import { DeployError } from '../../lib/errors.ts';
import type { KubeObject } from '../../lib/types.ts';

const cluster = { server: 'https://127.0.0.1:6443', context: 'todo' } as Cluster;

/** An error shaped like client-node's ApiException. */
function apiException(code: number, body: unknown): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}\nMessage: Unsuccessful HTTP Request\nBody: ${JSON.stringify(body)}`), { code, body });
}

// ---------------------------------------------------------------------------------------------
const paths = suite('kube: watch paths');

paths('core and grouped kinds, namespaced or not', () => {
  assert.is(resourcePath({ kind: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false } }), '/api/v1/namespaces');
  assert.is(resourcePath({ kind: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }, namespace: 'todo' }), '/api/v1/namespaces', 'a cluster-scoped kind ignores the namespace');
  assert.is(resourcePath({ kind: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true }, namespace: 'todo', name: 'backend' }), '/apis/apps/v1/namespaces/todo/deployments');
  assert.is(resourcePath({ kind: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true }, namespace: 'todo' }), '/apis/discovery.k8s.io/v1/namespaces/todo/endpointslices');
});

paths.run();

// ---------------------------------------------------------------------------------------------
const errors = suite('kube: errors as sentences');

const deployment: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend', namespace: 'todo' } };
const component: KubeObject = { apiVersion: 'dapr.io/v1alpha1', kind: 'Component', metadata: { name: 'statestore', namespace: 'todo' } };

errors('apiMessage prefers the Status message, parsed from a string body if need be', () => {
  const status = { kind: 'Status', message: 'Deployment.apps "backend" is invalid: spec.replicas: Invalid value: -1', code: 422 };
  assert.is(apiMessage(apiException(422, status)), status.message);
  assert.is(apiMessage(apiException(422, JSON.stringify(status))), status.message);
  assert.is(apiMessage(apiException(502, 'Bad Gateway')), 'Bad Gateway');
  assert.is(apiMessage(new Error('plain')), 'plain');
  assert.is(statusCode(apiException(409, {})), 409);
  assert.is(statusCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), undefined);
});

errors('networkCause finds the socket error however deep fetch wrapped it', () => {
  const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  const fetchError = new TypeError('fetch failed', { cause: socket });
  assert.is(networkCause(new Error('request failed', { cause: fetchError })), 'ECONNREFUSED');
  assert.is(networkCause(Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' })), 'UND_ERR_CONNECT_TIMEOUT');
  assert.is(networkCause(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.is(networkCause(apiException(500, {})), undefined, 'an HTTP status is not a network failure');
  assert.is(networkCause(undefined), undefined);
});

errors('an unreachable server is named with its context and the fix', () => {
  const err = unreachableError(cluster, 'ECONNREFUSED');
  assert.instance(err, DeployError);
  assert.is(err.exitCode, 1);
  assert.match(err.message, 'Cannot reach the Kubernetes API server at https://127.0.0.1:6443 (context "todo"): the connection was refused (nothing listens there).');
  assert.match(err.message, 'Nothing was applied.');
  assert.match(err.message, 'Fix: ');
  assert.match(unreachableError(cluster, 'EAI_AGAIN').message, ': EAI_AGAIN.', 'an unlisted cause is named as is');
});

errors('a rejected object is named with its manifest line and the API server\'s words', () => {
  const err = applyError(cluster, deployment, 'manifests/backend.yaml:12', apiException(422, { message: 'spec.replicas: Invalid value: -1' }));
  assert.is(err.message, 'The API server rejected Deployment/todo/backend (from manifests/backend.yaml:12): spec.replicas: Invalid value: -1');
  assert.instance((err as Error & { cause?: unknown }).cause, Error, 'the original error is kept for --debug');
});

errors('a Dapr kind the cluster does not serve points at installing Dapr', () => {
  const err = applyError(cluster, component, 'manifests/dapr.yaml:1', new Error('Unrecognized API version and kind: dapr.io/v1alpha1 Component'));
  assert.match(err.message, 'The cluster does not know dapr.io/v1alpha1 Component (Component/todo/statestore, from manifests/dapr.yaml:1).');
  assert.match(err.message, 'The Dapr CRDs are not installed.');
  assert.match(applyError(cluster, component, 'x:1', apiException(404, { message: 'nope' })).message, 'Dapr CRDs');
});

errors('another unknown kind asks for its CRD', () => {
  const other: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'todo' } };
  const err = applyError(cluster, other, 'x.yaml:1', apiException(404, { message: 'the server could not find the requested resource' }));
  assert.match(err.message, 'The cluster does not know example.com/v1 Widget');
  assert.match(err.message, 'install the CRD that defines this kind');
});

errors('a network failure during apply reads as the unreachable server', () => {
  const socket = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const err = applyError(cluster, deployment, 'manifests/backend.yaml:12', new TypeError('fetch failed', { cause: socket }));
  assert.match(err.message, 'Cannot reach the Kubernetes API server at https://127.0.0.1:6443 (context "todo"): the connection was reset.');
});

errors.run();

// ---------------------------------------------------------------------------------------------
const propagation = suite('kube: delete propagation');

propagation('owners are deleted in the foreground (a Deployment waits for its pods), everything else in the background', () => {
  assert.is(propagationFor('Deployment'), 'Foreground');
  for (const kind of ['Namespace', 'Secret', 'ServiceAccount', 'Role', 'RoleBinding', 'Configuration', 'Component', 'NetworkPolicy', 'Service', 'Ingress']) {
    assert.is(propagationFor(kind), 'Background', kind);
  }
});

propagation.run();

// ---------------------------------------------------------------------------------------------
const discovery = suite('kube: aggregated discovery (what down lists before deleting a namespace)');

discovery('each group at its first (preferred) version, with plural, kind, scope and verbs', () => {
  const doc = {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    items: [
      { metadata: { name: '' }, versions: [{ version: 'v1', resources: [{ resource: 'configmaps', responseKind: { group: '', version: 'v1', kind: 'ConfigMap' }, scope: 'Namespaced', verbs: ['get', 'list'] }, { resource: 'nodes', responseKind: { kind: 'Node' }, scope: 'Cluster', verbs: ['list'] }] }] },
      { metadata: { name: 'dapr.io' }, versions: [{ version: 'v2alpha1', resources: [{ resource: 'subscriptions', responseKind: { kind: 'Subscription' }, scope: 'Namespaced', verbs: ['list'] }] }, { version: 'v1alpha1', resources: [] }] },
      { metadata: { name: 'empty.example' }, versions: [] },
    ],
  };
  assert.equal(fromAggregated(doc), [
    { groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['get', 'list'] }, { name: 'nodes', kind: 'Node', namespaced: false, verbs: ['list'] }] },
    { groupVersion: 'dapr.io/v2alpha1', resources: [{ name: 'subscriptions', kind: 'Subscription', namespaced: true, verbs: ['list'] }] },
  ]);
});

discovery('an answer that is not aggregated discovery (an older server) is not read as one', () => {
  assert.is(fromAggregated({ kind: 'APIGroupList' }), undefined);
  assert.is(fromAggregated({ kind: 'APIVersions' }), undefined);
});

discovery.run();
