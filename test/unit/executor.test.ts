// The executor's own rules, without a cluster: the events a step emits and their order, skips,
// failures, durations, an interruption that ends a step at once (even one that ignores the
// signal), the truth about what was applied, and the JSON view's lines.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { Execution, Skip, listObjects, steps, tellApplied, untilAborted, type RunEvent } from '../../lib/executor.ts';
import { jsonView } from '../../lib/view/json.ts';
import { DeployError, Interrupted, exitCodeOf } from '../../lib/errors.ts';
import { STAGES } from '../../lib/order.ts';
import type { KubeObject } from '../../lib/types.ts';

/** What a promise rejects with (undefined when it resolves). */
const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e);

function recorder(signal?: AbortSignal): { exec: Execution; events: RunEvent[] } {
  const events: RunEvent[] = [];
  return { exec: new Execution((e) => events.push(e), signal), events };
}

const test = suite('executor: steps and their events');

test('a step emits start, its titles and output, then one end with the closing title; its duration is recorded', async () => {
  const { exec, events } = recorder();
  await exec.step({ id: 'a', title: 'A' }, async (io) => {
    io.title('A: half way');
    io.output('a line');
    return 'A: done';
  }, { timing: 'a', showDuration: true });
  assert.equal(events.map((e) => e.type), ['start', 'title', 'output', 'end']);
  const end = events[3] as Extract<RunEvent, { type: 'end' }>;
  assert.is(end.outcome, 'done');
  assert.match(end.title, /^A: done \(\d+ms\)$/);
  assert.equal(exec.timings.map((t) => t.title), ['a']);
});

test('the last title stays when the work returns none; exec.log goes to the running top-level step', async () => {
  const { exec, events } = recorder();
  await exec.step({ id: 'b', title: 'B' }, async (io) => {
    io.title('B 2/2 ready');
    exec.log('from a provider');
  });
  assert.equal(events.at(-1), { type: 'end', id: 'b', outcome: 'done', title: 'B 2/2 ready', ms: (events.at(-1) as { ms: number }).ms, error: undefined });
  assert.ok(events.some((e) => e.type === 'output' && e.id === 'b' && e.line === 'from a provider'));
});

test('Skip ends the step skipped with its sentence and no line in the durations', async () => {
  const { exec, events } = recorder();
  await exec.step({ id: 'c', title: 'C' }, async () => {
    throw new Skip('C: nothing to do');
  }, { timing: 'c' });
  assert.equal(events.at(-1)?.type === 'end' && [events.at(-1)!.type, (events.at(-1) as { outcome: string }).outcome, (events.at(-1) as { title: string }).title], ['end', 'skipped', 'C: nothing to do']);
  assert.equal(exec.timings, []);
});

test('a failure ends the step failed, keeps its duration, and travels on unchanged', async () => {
  const { exec, events } = recorder();
  const boom = new DeployError('the API server said no');
  assert.is(await caught(exec.step({ id: 'd', title: 'D' }, async () => Promise.reject(boom), { timing: 'd' })), boom);
  const end = events.at(-1) as Extract<RunEvent, { type: 'end' }>;
  assert.is(end.outcome, 'failed');
  assert.is(end.error, boom);
  assert.equal(exec.timings.map((t) => t.title), ['d']);
});

test('an interruption ends a step at once, even one that ignores the signal, naming the step (exit 130)', async () => {
  const controller = new AbortController();
  const { exec } = recorder(controller.signal);
  const never = new Promise<void>(() => undefined);
  const running = exec.step({ id: 'e', title: 'Cluster' }, () => never.then(() => undefined));
  controller.abort(new Interrupted('SIGINT'));
  const err = await caught(running);
  assert.ok(err instanceof Interrupted);
  assert.is((err as Interrupted).message, 'Stopped by Ctrl-C (SIGINT). It was at: Cluster.');
  assert.is(exitCodeOf(err), 130);
  assert.is(exitCodeOf(new Interrupted('SIGTERM')), 143);
});

test('untilAborted: the work when it ends first; an already aborted signal rejects before the work', async () => {
  assert.is(await untilAborted(Promise.resolve(7), new AbortController().signal), 7);
  const aborted = new AbortController();
  aborted.abort(new Interrupted('SIGTERM'));
  assert.ok((await caught(untilAborted(Promise.reject(new Error('late')), aborted.signal))) instanceof Interrupted);
});

test.run();

const told = suite('executor: what the messages say was applied');

told('nothing applied: the message is left as it is', () => {
  const err = new DeployError('Cannot reach the API server. Nothing was applied. Fix: start it.');
  assert.is((tellApplied(err, []) as Error).message, 'Cannot reach the API server. Nothing was applied. Fix: start it.');
});

told('after stages were applied, "Nothing was applied." goes and the applied stages are named', () => {
  const [ns, secrets, sa] = STAGES;
  const err = new DeployError('Cannot reach the API server. Nothing was applied. Fix: start it.');
  const out = tellApplied(err, [{ stage: ns!, action: 'apply', ready: true }, { stage: secrets!, action: 'apply', ready: false }], sa) as Error;
  assert.is(out, err, 'the same error, its class and exit code kept');
  assert.not.match(out.message, 'Nothing was applied');
  assert.match(out.message, 'Applied by this run before it stopped: stages 1 Namespace, 2 Secrets (applied, not ready), 3 ServiceAccounts (partly applied: the failure came while applying it).');
});

told('deletions do not count as applied', () => {
  const err = new DeployError('x');
  assert.is((tellApplied(err, [{ stage: STAGES[0]!, action: 'delete', ready: true }]) as Error).message, 'x');
});

told.run();

const shape = suite('executor: titles and views');

shape('long object lists are shortened in titles', () => {
  const obj = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'todo' } });
  assert.is(listObjects([obj('a'), obj('b')]), 'Service/todo/a, Service/todo/b');
  assert.is(listObjects(['a', 'b', 'c', 'd', 'e'].map(obj)), 'Service/todo/a, Service/todo/b, Service/todo/c and 2 more');
});

shape('steps() names each step by its key', () => {
  assert.equal(steps({ config: 'Load configuration', find: 'Find' }), { config: { id: 'config', title: 'Load configuration' }, find: { id: 'find', title: 'Find' } });
});

shape('the JSON view writes one line per event, errors as their message', () => {
  const lines: string[] = [];
  const view = jsonView((line) => lines.push(line));
  view({ type: 'start', id: 'a', title: 'A' });
  view({ type: 'end', id: 'a', outcome: 'failed', title: 'A', ms: 3, error: new DeployError('no') });
  const parsed = lines.map((l) => JSON.parse(l));
  assert.is(lines.every((l) => l.endsWith('\n')), true);
  assert.is(parsed[0].type, 'start');
  assert.is(parsed[1].error, 'no');
});

shape.run();
