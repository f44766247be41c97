// Readiness predicates on object fixtures (test/fixtures/core/objects, in the shape the API
// server returns): Deployment progressing / available / failed, Namespace, EndpointSlice,
// Ingress, gone; and which gate each kind gets.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { namespaceVerdict, deploymentVerdict, readyEndpointCount, endpointsVerdict, ingressVerdict, goneVerdict } from '../../lib/kinds.ts';
import { gatesFor, endpointGate, servesPods } from '../../lib/readiness.ts';
import type { KubeObject } from '../../lib/types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): KubeObject => parse(readFileSync(path.resolve(here, '../fixtures/core/objects', `${name}.yaml`), 'utf8')) as KubeObject;

// ---------------------------------------------------------------------------------------------
const deployment = suite('readiness: Deployment');

deployment('available: observed, updated = available = desired, no old replicas', () => {
  assert.equal(deploymentVerdict(fixture('deployment-available')), { done: true, progress: 'backend 2/2 ready' });
});

deployment('progressing: the controller has not yet observed the latest generation', () => {
  const v = deploymentVerdict(fixture('deployment-generation-behind'));
  assert.is(v.done, false);
  assert.is(v.failed, undefined);
});

deployment('progressing: fewer updated replicas than desired', () => {
  const v = deploymentVerdict(fixture('deployment-updating'));
  assert.equal(v, { done: false, progress: 'backend 2/2 ready' });
});

deployment('progressing: all new replicas available but an old one still runs', () => {
  const v = deploymentVerdict(fixture('deployment-old-replicas'));
  assert.is(v.done, false);
  assert.is(v.failed, undefined);
  assert.is(v.progress, 'backend 3/2 ready');
});

deployment('progressing: no status written yet', () => {
  assert.equal(deploymentVerdict(fixture('deployment-new')), { done: false, progress: 'frontend 0/1 ready' });
});

deployment('progressing: an unavailable replica keeps it from done even with matching counts', () => {
  const d = fixture('deployment-available');
  d.status.unavailableReplicas = 1;
  assert.is(deploymentVerdict(d).done, false);
  const fewer = fixture('deployment-available');
  fewer.status.availableReplicas = 1;
  fewer.status.readyReplicas = 1;
  assert.equal(deploymentVerdict(fewer), { done: false, progress: 'backend 1/2 ready' });
});

deployment('failed: ProgressDeadlineExceeded stops the wait with the controller\'s message', () => {
  const v = deploymentVerdict(fixture('deployment-failed'));
  assert.is(v.done, false);
  assert.is(v.progress, 'backend 0/1 ready');
  assert.ok(v.failed, 'a failed verdict');
  assert.match(v.failed!, 'Deployment backend exceeded its progress deadline');
  assert.match(v.failed!, 'ReplicaSet "backend-5b7d9c4f8" has timed out progressing.');
  assert.not.match(v.failed!, '..', 'one full stop, not two');
});

deployment('not failed: a deadline condition from a generation the controller has not yet observed', () => {
  // Re-running `up` after a failed rollout: the old condition must not fail the new rollout.
  const v = deploymentVerdict(fixture('deployment-failed-reapplied'));
  assert.is(v.failed, undefined);
  assert.is(v.done, false);
});

deployment('desired replicas default to 1 when spec.replicas is absent', () => {
  const d = fixture('deployment-available');
  delete d.spec.replicas;
  assert.is(deploymentVerdict(d).done, false, 'two running, one desired: not settled');
  Object.assign(d.status, { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
  assert.equal(deploymentVerdict(d), { done: true, progress: 'backend 1/1 ready' });
});

deployment('absent', () => {
  assert.equal(deploymentVerdict(undefined), { done: false, progress: 'not created yet' });
});

deployment.run();

// ---------------------------------------------------------------------------------------------
const namespace = suite('readiness: Namespace');

namespace('Active is done', () => {
  assert.equal(namespaceVerdict(fixture('namespace-active')), { done: true, progress: 'namespace todo Active' });
});

namespace('Terminating (left by an earlier down) is not done', () => {
  assert.equal(namespaceVerdict(fixture('namespace-terminating')), { done: false, progress: 'namespace todo Terminating' });
});

namespace('absent, or without a phase, is not done', () => {
  assert.equal(namespaceVerdict(undefined), { done: false, progress: 'not created yet' });
  const ns = fixture('namespace-active');
  delete ns.status;
  assert.equal(namespaceVerdict(ns), { done: false, progress: 'namespace todo Unknown' });
});

namespace.run();

// ---------------------------------------------------------------------------------------------
const slices = suite('readiness: EndpointSlice');

slices('ready endpoints are counted', () => {
  assert.is(readyEndpointCount([fixture('endpointslice-ready')]), 2);
  assert.equal(endpointsVerdict('backend-svc', [fixture('endpointslice-ready')]), { done: true, progress: 'backend-svc 2 ready endpoints' });
});

slices('not-ready endpoints are not', () => {
  assert.is(readyEndpointCount([fixture('endpointslice-not-ready')]), 0);
  assert.equal(endpointsVerdict('backend-svc', [fixture('endpointslice-not-ready')]), { done: false, progress: 'backend-svc 0 ready endpoints' });
});

slices('an endpoint without conditions counts as ready (the API reads a missing ready as true)', () => {
  assert.is(readyEndpointCount([fixture('endpointslice-no-conditions')]), 1);
  assert.equal(endpointsVerdict('backend-svc', [fixture('endpointslice-no-conditions')]), { done: true, progress: 'backend-svc 1 ready endpoint' });
});

slices('several slices add up; a slice with no endpoints or no slice at all gives none', () => {
  const all = ['endpointslice-ready', 'endpointslice-not-ready', 'endpointslice-no-conditions', 'endpointslice-empty'].map(fixture);
  assert.is(readyEndpointCount(all), 3);
  assert.is(readyEndpointCount([fixture('endpointslice-empty')]), 0);
  assert.equal(endpointsVerdict('backend-svc', []), { done: false, progress: 'backend-svc 0 ready endpoints' });
  assert.is(endpointsVerdict('backend-svc', [fixture('endpointslice-not-ready'), fixture('endpointslice-ready')]).done, true);
});

slices.run();

// ---------------------------------------------------------------------------------------------
const ingress = suite('readiness: Ingress');

ingress('an IP address from the controller is done', () => {
  assert.equal(ingressVerdict(fixture('ingress-ip')), { done: true, progress: 'todo-ingress at 192.168.49.2' });
});

ingress('a hostname is done too', () => {
  assert.equal(ingressVerdict(fixture('ingress-hostname')), { done: true, progress: 'todo-ingress at a1b2c3.elb.example.com' });
});

ingress('no address yet is not done', () => {
  assert.equal(ingressVerdict(fixture('ingress-pending')), { done: false, progress: 'todo-ingress waiting for an address' });
  const noStatus = fixture('ingress-pending');
  delete noStatus.status;
  assert.is(ingressVerdict(noStatus).done, false);
  const emptyEntry = fixture('ingress-pending');
  emptyEntry.status.loadBalancer.ingress = [{}];
  assert.is(ingressVerdict(emptyEntry).done, false);
  assert.equal(ingressVerdict(undefined), { done: false, progress: 'not created yet' });
});

ingress.run();

// ---------------------------------------------------------------------------------------------
const gone = suite('readiness: gone (down)');

gone('done once no object of that name is listed', () => {
  const verdict = goneVerdict('todo');
  assert.equal(verdict([]), { done: true, progress: 'todo gone' });
  assert.equal(verdict([fixture('deployment-available')]), { done: true, progress: 'todo gone' }, 'another name does not count');
  assert.equal(verdict([fixture('namespace-terminating')]), { done: false, progress: 'todo terminating' });
  assert.equal(verdict([fixture('namespace-active')]), { done: false, progress: 'todo still present' });
});

gone.run();

// ---------------------------------------------------------------------------------------------
const gates = suite('readiness: gates per kind');

const withName = (o: KubeObject, name: string): KubeObject => ({ ...o, metadata: { ...o.metadata, name } });

gates('a Namespace waits for Active on the namespaces resource, by name', () => {
  const [gate, ...rest] = gatesFor({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'todo' } });
  assert.equal(rest, []);
  assert.equal(gate.target, { kind: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }, name: 'todo' });
  assert.is(gate.evaluate([fixture('namespace-active')]).done, true);
  assert.is(gate.evaluate([withName(fixture('namespace-active'), 'other')]).done, false, 'judges its own namespace only');
  assert.is(gate.evaluate([]).done, false);
  assert.match(gate.goal, 'Namespace todo to be Active');
});

gates('a Deployment waits for its rollout, judged on its own object among others', () => {
  const applied: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend', namespace: 'todo' } };
  const [gate, ...rest] = gatesFor(applied);
  assert.equal(rest, []);
  assert.equal(gate.target, { kind: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true }, namespace: 'todo', name: 'backend' });
  assert.is(gate.subject, applied);
  assert.is(gate.evaluate([withName(fixture('deployment-updating'), 'frontend'), fixture('deployment-available')]).done, true);
  assert.is(gate.evaluate([withName(fixture('deployment-available'), 'frontend'), fixture('deployment-updating')]).done, false);
  assert.ok(gate.evaluate([fixture('deployment-failed')]).failed);
});

gates('an Ingress waits for an address', () => {
  const [gate, ...rest] = gatesFor({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'todo-ingress', namespace: 'todo' } });
  assert.equal(rest, []);
  assert.equal(gate.target.kind, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true });
  assert.is(gate.target.namespace, 'todo');
  assert.is(gate.target.name, 'todo-ingress');
  assert.is(gate.evaluate([fixture('ingress-ip')]).done, true);
  assert.is(gate.evaluate([fixture('ingress-pending')]).done, false);
});

gates('kinds whose state is "present" need no gate beyond the apply', () => {
  const present: Array<[string, string]> = [
    ['v1', 'Secret'],
    ['v1', 'ServiceAccount'],
    ['rbac.authorization.k8s.io/v1', 'Role'],
    ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
    ['dapr.io/v1alpha1', 'Configuration'],
    ['dapr.io/v1alpha1', 'Component'],
    ['networking.k8s.io/v1', 'NetworkPolicy'],
    ['v1', 'Service'],
  ];
  for (const [apiVersion, kind] of present) assert.equal(gatesFor({ apiVersion, kind, metadata: { name: 'x', namespace: 'todo' } }), [], kind);
});

gates('a Service\'s endpoint gate watches its EndpointSlices by the service-name label', () => {
  const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-svc', namespace: 'todo' }, spec: { selector: { app: 'backend' } } };
  const gate = endpointGate(service);
  assert.equal(gate.target, {
    kind: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices', namespaced: true },
    namespace: 'todo',
    labelSelector: 'kubernetes.io/service-name=backend-svc',
  });
  assert.is(gate.subject, service);
  assert.is(gate.evaluate([fixture('endpointslice-ready')]).done, true);
  assert.is(gate.evaluate([fixture('endpointslice-not-ready')]).done, false);
  assert.is(gate.title, 'backend-svc endpoints');
});

gates('servesPods: only Services with a selector get endpoints from pods', () => {
  const svc = (spec: unknown): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });
  assert.is(servesPods(svc({ type: 'ClusterIP', selector: { app: 'backend' } })), true);
  assert.is(servesPods(svc({ selector: { app: 'backend' } })), true);
  assert.is(servesPods(svc({ type: 'ExternalName', externalName: 'db.example.com', selector: { app: 'x' } })), false);
  assert.is(servesPods(svc({ type: 'ClusterIP' })), false);
  assert.is(servesPods(svc({ selector: {} })), false);
  assert.is(servesPods(svc(undefined)), false);
});

gates.run();
