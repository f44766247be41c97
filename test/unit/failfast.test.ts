// Fail fast (lib/failfast.ts): the pod states waiting will not heal, judged from pods as the API
// returns them, shaped as a kubelet and the scheduler report them.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { blockerLine, newestTemplateHash, podBlocker, rolloutBlocker } from '../../lib/failfast.ts';
import type { KubeObject } from '../../lib/types.ts';

const now = new Date('2026-01-01T00:01:00Z');

function pod(name: string, status: Record<string, unknown>, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, status };
}
const waiting = (reason: string, message?: string, extra: Record<string, unknown> = {}) => ({ phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason, message } }, ...extra }] });

const test = suite('fail fast: hopeless pod states');

test('image pull failures, crash loops and a missing Secret key are hopeless at once, naming pod, container and reason', () => {
  for (const reason of ['ImagePullBackOff', 'ErrImagePull', 'ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError']) {
    assert.equal(podBlocker(pod('p', waiting(reason, 'why')), now), { pod: 'p', container: 'app', reason, message: 'why' });
  }
  const crash = podBlocker(pod('p', waiting('CrashLoopBackOff', 'back-off 20s', { restartCount: 3, lastState: { terminated: { exitCode: 1, reason: 'Error' } } })), now);
  assert.equal(crash, { pod: 'p', container: 'app', reason: 'CrashLoopBackOff', message: 'back-off 20s (last exit 1, Error)' });
});

test('starting, running, unready and a single OOM kill are not hopeless: waiting may still help', () => {
  assert.is(podBlocker(pod('p', waiting('ContainerCreating')), now), undefined);
  assert.is(podBlocker(pod('p', { phase: 'Pending' }), now), undefined);
  assert.is(podBlocker(pod('p', { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, state: { running: {} } }] }), now), undefined);
  assert.is(podBlocker(pod('p', { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] }), now), undefined);
});

test('OOMKilled twice or more is hopeless even while the container runs again', () => {
  const b = podBlocker(pod('p', { phase: 'Running', containerStatuses: [{ name: 'app', restartCount: 2, state: { running: {} }, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] }), now);
  assert.is(b?.reason, 'OOMKilled');
  assert.match(b!.message!, /2 restarts/);
});

test('Unschedulable counts only after its grace; an init container is judged too', () => {
  const unschedulable = (since: string) => pod('p', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available', lastTransitionTime: since }] });
  assert.is(podBlocker(unschedulable('2026-01-01T00:00:55Z'), now), undefined, '5 s: still in the grace');
  assert.equal(podBlocker(unschedulable('2026-01-01T00:00:30Z'), now), { pod: 'p', reason: 'Unschedulable', message: '0/1 nodes are available' });
  assert.is(podBlocker(pod('p', { phase: 'Pending', initContainerStatuses: [{ name: 'init', state: { waiting: { reason: 'ImagePullBackOff' } } }] }), now)?.container, 'init');
});

test('a rollout is blocked only by pods of its newest template; a terminating pod never blocks', () => {
  const old = pod('web-old-1', waiting('CrashLoopBackOff'), { 'pod-template-hash': 'old' });
  const fresh = pod('web-new-1', { phase: 'Running', containerStatuses: [{ name: 'app', state: { running: {} } }] }, { 'pod-template-hash': 'new' });
  assert.is(rolloutBlocker([old, fresh], now, 'new'), undefined);
  assert.is(rolloutBlocker([old, fresh], now)?.pod, 'web-old-1', 'without a known hash every pod counts');
  const leaving = { ...pod('x', waiting('CrashLoopBackOff')), metadata: { name: 'x', deletionTimestamp: '2026-01-01T00:00:00Z' } };
  assert.is(podBlocker(leaving, now), undefined);
});

test('the newest template hash is the ReplicaSet whose revision is the Deployment\'s', () => {
  const d: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', uid: 'u1', annotations: { 'deployment.kubernetes.io/revision': '3' } } };
  const rs = (hash: string, revision: string, uid = 'u1'): KubeObject => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: `web-${hash}`, labels: { 'pod-template-hash': hash }, annotations: { 'deployment.kubernetes.io/revision': revision }, ownerReferences: [{ uid }] } });
  assert.is(newestTemplateHash(d, [rs('aaa', '2'), rs('bbb', '3'), rs('ccc', '3', 'other')]), 'bbb');
  assert.is(newestTemplateHash({ ...d, metadata: { ...d.metadata, annotations: {} } }, [rs('bbb', '3')]), undefined);
});

test('the failure line names the Deployment, pod, container and reason, and why it did not wait', () => {
  assert.is(
    blockerLine('todo/backend', { pod: 'backend-1', container: 'backend', reason: 'CrashLoopBackOff', message: 'back-off 20s' }),
    'Deployment todo/backend: pod backend-1, container backend: CrashLoopBackOff (back-off 20s). Waiting will not heal this, so the gate failed now instead of at its deadline.',
  );
});

test.run();
