// The wait for kube-router's rules on an enforcing real node, its pure parts: which pods it
// filters, which of them have their firewall chain in the filter table, and the polling both
// node waits share.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { policedPods, unfiltered } from '../../lib/controlplane/node/policy-sync.ts';
import { waitUntilNoneLeft } from '../../lib/controlplane/node/settle.ts';
import type { KubeObject } from '../../lib/types.ts';

const test = suite('kube-router sync wait (pure)');

const pod = (name: string, labels: Record<string, string>, status: Record<string, unknown> = { phase: 'Running', podIP: '10.244.0.9' }, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels, ...extra }, spec: {}, status }) as KubeObject;
const policy = (podSelector: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: { podSelector } }) as KubeObject;

test('the pods a policy selects, running with an address; not pending, not being deleted, not on the host network, not unselected', () => {
  const pods = [
    pod('frontend-1', { app: 'frontend' }),
    pod('backend-1', { app: 'backend' }),
    pod('backend-pending', { app: 'backend' }, { phase: 'Pending' }),
    pod('backend-no-ip', { app: 'backend' }, { phase: 'Running' }),
    pod('backend-going', { app: 'backend' }, undefined, { deletionTimestamp: '2026-11-30T18:00:00Z' }),
    { ...pod('host', { app: 'backend' }), spec: { hostNetwork: true } } as KubeObject,
  ];
  assert.equal(policedPods(pods, [policy({ matchLabels: { app: 'backend' } })]), ['backend-1']);
  // The default deny's empty selector selects every pod of its namespace.
  assert.equal(policedPods(pods, [policy({})]), ['frontend-1', 'backend-1']);
  assert.equal(policedPods(pods, []), [], 'no policy: kube-router filters nothing, nothing to wait for');
});

// kube-router v2.1.0's jump to a pod's chain, as iptables-save prints it.
const RULES = `*filter
:KUBE-ROUTER-FORWARD - [0:0]
-A KUBE-ROUTER-FORWARD -m comment --comment "rule to jump traffic destined to POD name:frontend-1 namespace: todo-app to chain KUBE-POD-FW-QWERTY0123456789" -d 10.244.0.5/32 -j KUBE-POD-FW-QWERTY0123456789
-A KUBE-ROUTER-FORWARD -m comment --comment "rule to jump traffic destined to POD name:backend-1 namespace: todo to chain KUBE-POD-FW-ASDFGH0123456789" -d 10.244.0.6/32 -j KUBE-POD-FW-ASDFGH0123456789
COMMIT
`;

test('a pod is filtered once its chain is in the table, for its own namespace only', () => {
  assert.equal(unfiltered(RULES, ['frontend-1', 'backend-1', 'mcp-server-1'], 'todo-app'), ['backend-1', 'mcp-server-1']);
  // A namespace whose name starts another's is not taken for it.
  assert.equal(unfiltered(RULES, ['frontend-1'], 'todo'), ['frontend-1']);
  assert.equal(unfiltered('', ['frontend-1'], 'todo-app'), ['frontend-1']);
});

test('the shared poll: what was left at first, each look given the last, done when nothing is left', async () => {
  const looks: (string[] | undefined)[] = [];
  const answers = [['a', 'b'], ['b'], []];
  const r = await waitUntilNoneLeft<string>(async (previous) => {
    looks.push(previous);
    return answers[looks.length - 1]!;
  }, { deadlineMs: 10_000, everyMs: 1, timeout: () => new Error('never') });
  assert.equal(r.waitedFor, ['a', 'b']);
  assert.equal(looks, [undefined, ['a', 'b'], ['b']]);
});

test('the shared poll: past the deadline it throws what the caller makes of what is left', async () => {
  const err = await waitUntilNoneLeft(async () => ['x'], { deadlineMs: 20, everyMs: 5, timeout: (left) => new Error(`still ${left.join(',')}`) }).catch((e: Error) => e);
  assert.instance(err, Error);
  assert.is((err as Error).message, 'still x');
});

test.run();
