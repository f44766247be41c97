// What todo-deploy owns: the namespace `up` may apply and `down` may delete, and the objects in
// it that are the user's. Pure rules on objects as the API server returns them.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { isManaged, isUserObject, keptNamespaceText, planNamespace, POD_SECURITY_ENFORCE } from '../../lib/ownership.ts';
import { MANAGED_LABELS } from '../../lib/manifests.ts';
import type { KubeObject } from '../../lib/types.ts';

const test = suite();

const ns = (labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'todo', labels } });
const planned = ns({ ...MANAGED_LABELS, [POD_SECURITY_ENFORCE]: 'baseline' });
const obj = (kind: string, name: string, extra: Partial<KubeObject> & { labels?: Record<string, string>; owners?: unknown[] } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'todo', labels: extra.labels, ownerReferences: extra.owners },
  ...(extra.type ? { type: extra.type } : {}),
});

test('namespace: created when absent, applied when ours, kept as it is when the user\'s', () => {
  assert.is(planNamespace(planned, undefined).action, 'create');
  assert.is(planNamespace(planned, ns({ ...MANAGED_LABELS })).action, 'apply');
  const keep = planNamespace(planned, ns({ team: 'a' }));
  assert.is(keep.action, 'keep');
  assert.match((keep as { note: string }).note, 'namespace todo exists and is not todo-deploy\'s');
  // Same level or a more permissive one: deploy without relabelling.
  assert.is(planNamespace(planned, ns({ [POD_SECURITY_ENFORCE]: 'baseline' })).action, 'keep');
  assert.is(planNamespace(planned, ns({ [POD_SECURITY_ENFORCE]: 'privileged' })).action, 'keep');
});

test('namespace: a user\'s namespace stricter than the stack needs is refused, with the fix and nothing applied', () => {
  const r = planNamespace(planned, ns({ [POD_SECURITY_ENFORCE]: 'restricted' }));
  assert.is(r.action, 'refuse');
  const reason = (r as { reason: string }).reason;
  assert.match(reason, 'enforces Pod Security "restricted" where the stack needs "baseline"');
  assert.match(reason, 'kubectl label namespace todo pod-security.kubernetes.io/enforce=baseline --overwrite');
  assert.match(reason, 'nothing was applied');
});

test('user objects: not ours, not derived, not what the cluster puts in every namespace', () => {
  assert.ok(isUserObject(obj('ConfigMap', 'user-config')));
  assert.ok(isUserObject(obj('Pod', 'debug')));
  assert.not.ok(isUserObject(obj('ConfigMap', 'app', { labels: { ...MANAGED_LABELS } })));
  assert.not.ok(isUserObject(obj('Pod', 'backend-x', { owners: [{ kind: 'ReplicaSet' }] })));
  assert.not.ok(isUserObject(obj('ConfigMap', 'kube-root-ca.crt')));
  assert.not.ok(isUserObject(obj('ServiceAccount', 'default')));
  assert.not.ok(isUserObject(obj('Secret', 'sa-token', { type: 'kubernetes.io/service-account-token' })));
  assert.not.ok(isUserObject(obj('Event', 'x.1')));
  assert.not.ok(isUserObject(obj('EndpointSlice', 'backend-svc-abc')));
  assert.not.ok(isUserObject(obj('Secret', 'sh.helm.release.v1.todo-app.v1', { type: 'helm.sh/release.v1', labels: { name: 'todo-app', owner: 'helm' } })));
  // Another Helm release in the namespace is the user's.
  assert.ok(isUserObject(obj('Secret', 'sh.helm.release.v1.other.v1', { type: 'helm.sh/release.v1', labels: { name: 'other', owner: 'helm' } })));
  assert.ok(isManaged({ ...planned }));
});

test('the kept-namespace sentence names the objects (ten at most) and the fix', () => {
  const many = Array.from({ length: 12 }, (_, i) => obj('ConfigMap', `c${i}`));
  const text = keptNamespaceText('todo', many);
  assert.match(text, 'namespace todo kept: it holds 12 object(s) todo-deploy did not create (ConfigMap/todo/c0,');
  assert.match(text, 'and 2 more');
  assert.match(text, '--force');
});

test.run();
