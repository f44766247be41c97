// Diagnosis of a failed gate from the cluster's own words: one line per pod (fixtures in
// test/fixtures/core/objects) and the recent warning events, deduplicated and limited.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { explainPod, explainEvents } from '../../lib/diagnose.ts';
import type { KubeObject } from '../../lib/types.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): KubeObject => parse(readFileSync(path.resolve(here, '../fixtures/core/objects', `${name}.yaml`), 'utf8')) as KubeObject;

// ---------------------------------------------------------------------------------------------
const pods = suite('diagnose: explainPod');

pods('Unschedulable: the scheduler\'s reason and message', () => {
  assert.is(
    explainPod(fixture('pod-unschedulable')),
    'pod backend-6d8f7b9c5d-abcde: Pending; not scheduled: Unschedulable (0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.)',
  );
});

pods('ImagePullBackOff: the container, the reason and the image it could not pull', () => {
  const line = explainPod(fixture('pod-imagepullbackoff'));
  assert.is(line, 'pod backend-6d8f7b9c5d-fghij: Pending; container backend ImagePullBackOff: Back-off pulling image "registry.example.com/todo/backend:0.1.0"');
  assert.not.match(line, 'not ready:', 'the container reason says it; the generic Ready condition is not repeated');
});

pods('CrashLoopBackOff: the back-off, how the last run ended and the restart count', () => {
  const line = explainPod(fixture('pod-crashloop'));
  assert.match(line, /^pod backend-6d8f7b9c5d-klmno: Running; /);
  assert.match(line, 'container backend CrashLoopBackOff: back-off 1m20s restarting failed container');
  assert.match(line, 'container backend last terminated Error (exit 1)');
  assert.match(line, 'container backend restarted 4 time(s)');
});

pods('OOMKilled: the last termination reason and exit code, though the container runs again', () => {
  const line = explainPod(fixture('pod-oomkilled'));
  assert.is(line, 'pod backend-6d8f7b9c5d-pqrst: Running; container backend last terminated OOMKilled (exit 137); container backend restarted 1 time(s)');
});

pods('running but not ready: the readiness probe is failing', () => {
  assert.is(explainPod(fixture('pod-running-not-ready')), 'pod frontend-7c9d8e6f5a-uvwxy: Running; container frontend running but not ready (readiness probe failing)');
});

pods('init containers are explained as well', () => {
  const line = explainPod(fixture('pod-init-failing'));
  assert.match(line, 'container wait-for-db CrashLoopBackOff');
  assert.match(line, 'container wait-for-db last terminated Error (exit 2)');
  assert.match(line, 'container backend PodInitializing');
  assert.ok(line.indexOf('wait-for-db') < line.indexOf('container backend'), 'init containers first');
});

pods('a ready pod has nothing to add; a pending pod without reasons says so', () => {
  assert.is(explainPod(fixture('pod-ready')), 'pod frontend-7c9d8e6f5a-zzzzz: Running');
  const bare: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending' } };
  assert.is(explainPod(bare), 'pod p: Pending; pending, no reason reported yet');
  assert.is(explainPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'q' } }), 'pod q: Unknown');
});

pods('a Ready=False condition is the fallback when no container says more', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'r' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'gate x' }] },
  };
  assert.is(explainPod(pod), 'pod r: Running; not ready: ReadinessGatesNotReady gate x');
});

pods('a container that completed is not reported as a failure', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'c' },
    status: { phase: 'Running', containerStatuses: [{ name: 'migrate', ready: false, restartCount: 0, state: { terminated: { reason: 'Completed', exitCode: 0 } } }] },
  };
  assert.not.match(explainPod(pod), 'Completed');
});

pods.run();

// ---------------------------------------------------------------------------------------------
const events = suite('diagnose: explainEvents');
const list = () => (fixture('events') as unknown as { items: KubeObject[] }).items;

events('warnings only, oldest first, each distinct line once', () => {
  assert.equal(explainEvents(list()), [
    'Pod backend-6d8f7b9c5d-abcde: FailedScheduling 0/1 nodes are available: 1 Insufficient cpu.',
    'Pod backend-6d8f7b9c5d-klmno: Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 503',
    'Pod backend-6d8f7b9c5d-klmno: BackOff Back-off restarting failed container backend in pod backend-6d8f7b9c5d-klmno_todo',
  ]);
});

events('the limit keeps the newest lines', () => {
  assert.equal(explainEvents(list(), 1), ['Pod backend-6d8f7b9c5d-klmno: BackOff Back-off restarting failed container backend in pod backend-6d8f7b9c5d-klmno_todo']);
  assert.is(explainEvents(list(), 2).length, 2);
  assert.match(explainEvents(list(), 2)[0], 'Unhealthy');
});

events('no warnings, no lines', () => {
  assert.equal(explainEvents(list().filter((e) => e.type !== 'Warning')), []);
  assert.equal(explainEvents([]), []);
});

events.run();
