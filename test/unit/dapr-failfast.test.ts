// The Dapr step's fail fast, the pure parts: which pod of dapr-system stops the install and the
// wait, and the error that names it with its last log lines. (The watch beside helm runs in
// the real-node suite's up.)
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { DAPR_CRASH_RESTARTS, daprBlocker, daprBlockerMessage } from '../../lib/cluster/dapr-failfast.ts';
import type { KubeObject } from '../../lib/types.ts';

const now = new Date('2026-11-30T18:00:00Z');

function pod(name: string, containerStatuses: Record<string, unknown>[], extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'dapr-system', ...extra }, status: { phase: 'Running', containerStatuses } };
}
const runningReady = (name: string) => ({ name, ready: true, restartCount: 0, state: { running: {} } });
const crashLooping = (name: string, restarts: number) => ({
  name,
  ready: false,
  restartCount: restarts,
  state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=${name}` } },
  lastState: { terminated: { exitCode: 1, reason: 'Error' } },
});

const test = suite('Dapr fail fast: the hopeless pod of dapr-system, and the error naming it');

test('a crash-looping Dapr pod among ready ones is the blocker: pod, container, reason, the last exit', () => {
  const pods = [
    pod('dapr-sentry-6c8d9', [runningReady('dapr-sentry')]),
    pod('dapr-operator-5f7b8', [crashLooping('dapr-operator', 3)]),
    pod('dapr-scheduler-server-0', [runningReady('dapr-scheduler')]),
  ];
  assert.equal(daprBlocker(pods, now), {
    pod: 'dapr-operator-5f7b8',
    container: 'dapr-operator',
    reason: 'CrashLoopBackOff',
    message: 'back-off 20s restarting failed container=dapr-operator (last exit 1, Error)',
  });
});

test('a Dapr container that crashed once or twice may be waiting for its peers: only the third restart in CrashLoopBackOff stops the step', () => {
  assert.is(DAPR_CRASH_RESTARTS, 3);
  const scheduler = (restarts: number) => pod('dapr-scheduler-server-0', [crashLooping('dapr-scheduler', restarts)]);
  assert.is(daprBlocker([scheduler(1)], now), undefined);
  assert.is(daprBlocker([scheduler(2)], now), undefined);
  assert.is(daprBlocker([scheduler(3)], now)?.pod, 'dapr-scheduler-server-0');
  // A settling pod does not hide another's failure.
  const neverPulled = pod('dapr-sentry-6c8d9', [{ name: 'dapr-sentry', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull' } } }]);
  assert.is(daprBlocker([scheduler(1), neverPulled], now)?.reason, 'ErrImageNeverPull');
});

test('starting, running and ready pods, and a crashing pod on its way out, stop nothing', () => {
  const starting = pod('dapr-placement-server-0', [{ name: 'dapr-placement-server', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }]);
  const leaving = pod('dapr-injector-old', [crashLooping('dapr-sidecar-injector', 5)], { deletionTimestamp: '2026-11-30T17:59:00Z' });
  assert.is(daprBlocker([starting, leaving, pod('dapr-sentry-6c8d9', [runningReady('dapr-sentry')])], now), undefined);
  assert.is(daprBlocker([], now), undefined);
});

test('an image the node does not hold (never pulled) is a blocker too', () => {
  const b = daprBlocker([pod('dapr-sentry-6c8d9', [{ name: 'dapr-sentry', ready: false, restartCount: 0, state: { waiting: { reason: 'ErrImageNeverPull', message: 'Container image "todo-deploy.local/dapr/sentry:1.16.0" is not present with pull policy of Never' } } }])], now);
  assert.is(b?.reason, 'ErrImageNeverPull');
  assert.is(b?.container, 'dapr-sentry');
});

test('the error names pod, container and reason, shows the last log lines, says the step stopped, and gives the commands with --previous for a crash loop', () => {
  const b = daprBlocker([pod('dapr-operator-5f7b8', [crashLooping('dapr-operator', 3)])], now)!;
  const message = daprBlockerMessage(b, 'time="..." level=info msg="starting"\ntime="..." level=fatal msg="error creating operator: no trust bundle"', 'kubectl --context sandbox');
  assert.match(message, 'The Dapr control plane failed: pod dapr-system/dapr-operator-5f7b8, container dapr-operator: CrashLoopBackOff (back-off 20s restarting failed container=dapr-operator (last exit 1, Error)).');
  assert.match(message, 'stopped its install and its wait now instead of at their deadline');
  assert.match(message, 'Its last log lines:\n  time="..." level=info msg="starting"\n  time="..." level=fatal msg="error creating operator: no trust bundle"\n');
  assert.match(message, 'No Deployment of the stack was applied');
  assert.match(message, 'Fix: look at `kubectl --context sandbox -n dapr-system describe pod dapr-operator-5f7b8` and `kubectl --context sandbox -n dapr-system logs dapr-operator-5f7b8 -c dapr-operator --previous`');
});

test('without log lines the error says so, and an image failure asks for the logs without --previous', () => {
  const b = { pod: 'dapr-sentry-6c8d9', container: 'dapr-sentry', reason: 'ErrImageNeverPull', message: 'not present' };
  const message = daprBlockerMessage(b, '  \n', 'kubectl --context sandbox');
  assert.match(message, 'ErrImageNeverPull (not present).');
  assert.match(message, '\nIt wrote no log lines.\n');
  assert.match(message, '`kubectl --context sandbox -n dapr-system logs dapr-sentry-6c8d9 -c dapr-sentry`,');
  assert.not.match(message, '--previous');
  // An unschedulable pod has no container to name: no logs command.
  const unschedulable = daprBlockerMessage({ pod: 'dapr-scheduler-server-1', reason: 'Unschedulable', message: 'pod has unbound immediate PersistentVolumeClaims' }, '', 'kubectl --context sandbox');
  assert.match(unschedulable, 'pod dapr-system/dapr-scheduler-server-1: Unschedulable (pod has unbound immediate PersistentVolumeClaims).');
  assert.not.match(unschedulable, ' logs ');
  assert.not.match(unschedulable, 'log lines');
});

test.run();
