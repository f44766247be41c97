// Unit tests for the scenario parts of the benchmark: the manifest variants (one image tag
// changed, generated components), counting the tools' requests in the audit log, and the
// report's ratios and slopes.
import { suite } from '../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { countRequests, describeCount, TOOL_USER } from '../audit.ts';
import { detection, failureRatioRow, ratio, slope, targetChecks, type BenchResult, type FailureSample, type Sample } from '../report.ts';
import { documents, frontendDocuments, generatedComponents, nextTag, withBackendImage, withCrashingBackend } from '../variants.ts';
import { REPO_ROOT as repoRoot } from '../../lib/repo-root.ts';
import { busyReason, newestTags } from '../real-node.ts';

const test = suite('bench: scenarios');

const manifests = (...names: string[]) => new Map(names.map((n) => [n, readFileSync(path.join(repoRoot, 'manifests', n), 'utf8')]));

test("generated components copy the frontend's five objects under new names", () => {
  const docs = frontendDocuments(manifests('10-serviceaccounts.yaml', '20-rbac.yaml', '70-services.yaml', '80-deployments.yaml'));
  assert.equal(docs.map((d) => /^kind: (\w+)$/m.exec(d)![1]).sort(), ['Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
  const text = generatedComponents(docs, 2);
  assert.is(documents(text).length, 10);
  assert.not.match(text, /\bfrontend\b/);
  assert.match(text, 'name: gen-2-sa');
  assert.match(text, 'image: ${FRONTEND_IMAGE}', 'placeholders stay for the renderer');
});

test("the changed variant moves the backend's image only; tags move on by a patch release", () => {
  const text = readFileSync(path.join(repoRoot, 'manifests', '80-deployments.yaml'), 'utf8');
  const changed = withBackendImage(text, 'todo-backend:0.1.1');
  assert.match(changed, 'image: todo-backend:0.1.1');
  assert.match(changed, 'image: ${FRONTEND_IMAGE}');
  assert.is(changed.split('\n').filter((l, i) => l !== text.split('\n')[i]).length, 1);
  assert.is(nextTag('0.1.0'), '0.1.1');
  assert.is(nextTag('abc1234'), 'abc1234-next');
});

test("the crashing variant annotates the backend's pods only, for kwok's CrashLoopBackOff", () => {
  const text = readFileSync(path.join(repoRoot, 'manifests', '80-deployments.yaml'), 'utf8');
  const crashing = withCrashingBackend(text);
  const added = crashing.split('\n').filter((l) => !text.split('\n').includes(l));
  assert.equal(added, ['        todo-deploy.test/fail-as: CrashLoopBackOff']);
  const backend = documents(crashing).find((d) => /^ {2}name: backend$/m.test(d) && /^kind: Deployment$/m.test(d))!;
  assert.match(backend, 'todo-deploy.test/fail-as: CrashLoopBackOff');
});

test('(5) detection: exit minus the first CrashLoopBackOff; a capped peer is a lower bound', () => {
  const sample = (over: Partial<FailureSample>): FailureSample => ({ run: 1, crashAfterMs: 4000, exitAfterMs: 5500, code: 1, capped: false, output: '', ...over });
  assert.equal(detection([sample({})]), { ms: 1500, capped: false, detected: true });
  assert.equal(detection([sample({ exitAfterMs: 60_000, code: null, capped: true })]), { ms: 56_000, capped: true, detected: false });
  assert.is(detection([sample({ crashAfterMs: undefined })]).ms.toString(), 'NaN');
  const row = failureRatioRow(
    {
      capSeconds: 60,
      what: '',
      tools: [
        { id: 'todo-deploy', commands: [], samples: [sample({})] },
        { id: 'helm', commands: [], samples: [sample({ exitAfterMs: 60_000, code: null, capped: true })] },
      ],
    },
    ['kubectl', 'helm'],
  )!;
  assert.match(row, '| 1.50 s | not run | ≥ 56.0 s (cap; ≥ 37.33×) |');
  const capped = { run: 1, crashAfterMs: 4000, exitAfterMs: 60_000, code: null, capped: true, output: '' };
  const both = failureRatioRow({ capSeconds: 60, what: '', tools: [{ id: 'todo-deploy', commands: [], samples: [capped] }, { id: 'kubectl', commands: [], samples: [capped] }] }, ['kubectl'])!;
  assert.match(both, '| ≥ 56.0 s (cap) | ≥ 56.0 s (cap; both capped, no ratio) |');
});

test('(8) the real node is left alone when another one is in use; the newest image of each repository is taken', () => {
  assert.is(busyReason('', ''), undefined);
  assert.match(busyReason('todo-node-1 (id: 0)\n', '')!, 'network namespace todo-node-1 exists');
  assert.match(busyReason('', '4242\n')!, 'a kubelet runs (pid 4242)');
  const tags = newestTags('todo-backend b13f4fe76201\ntodo-backend 010867a55a0a\ntodo-frontend <none>\ntodo-frontend e16e5acebeb2\n');
  assert.equal([...tags], [['todo-backend', 'b13f4fe76201'], ['todo-frontend', 'e16e5acebeb2']]);
});

test("the targets are judged from the run's medians: ratios, writes, detection, RSS", () => {
  const sample = (ms: number, over: Partial<Sample> = {}): Sample => ({ run: 1, ms, ok: true, steps: [], load1: 1, ...over });
  const tool = (id: 'todo-deploy' | 'kubectl' | 'kapp', cold: number, warm: number, down: number, over: Partial<Sample> = {}) => ({
    id, version: '', waitsFor: '', commands: { cold: [], warm: [], change: [], down: [] }, startup: [], startupCommand: '',
    phases: { cold: [sample(cold, over)], warm: [sample(warm, { stackChanges: { changed: [], added: [], removed: [] }, ...over })], change: [], down: [sample(down, over)] },
  });
  const result = {
    quick: [{ tool: 'todo-deploy', what: 'start-up through npm', display: '', ms: [300, 500, 350], codes: [], maxRssKiB: [] }],
    tools: [tool('todo-deploy', 2000, 1000, 7000, { maxRssKiB: 120 * 1024 }), tool('kubectl', 3000, 900, 12000), tool('kapp', 6000, 400, 7500)],
    scale: [],
  } as unknown as BenchResult;
  const checks = Object.fromEntries(targetChecks(result).map((c) => [c.target, c]));
  assert.is(checks['`npm run up -- --help` ≤ 0.4 s through npm']!.met, true);
  assert.is(checks['cold `up` ≤ 1.0× the kubectl runbook']!.met, true);
  assert.is(checks['`up` with nothing changed ≤ 1.0× the kubectl runbook, writing 0 objects']!.met, false, '1.0 s against 0.9 s');
  assert.is(checks['`down` ≤ 1.0× `kapp delete`']!.met, true);
  assert.is(checks['failure detection ≤ 2 s after the first CrashLoopBackOff']!.met, undefined, 'not measured');
  assert.is(checks['peak RSS of `up` and `down` under 200 MB']!.measured, 'at most 120 MB');
});

test("the audit log counts the tools' finished requests only, by verb", () => {
  const line = (user: string, verb: string, stage = 'ResponseComplete') => JSON.stringify({ kind: 'Event', stage, verb, user: { username: user } });
  const log = [line(TOOL_USER, 'list'), line(TOOL_USER, 'patch'), line(TOOL_USER, 'patch'), line('todo-deploy-admin', 'list'), line(TOOL_USER, 'watch', 'ResponseStarted'), '{"cut in the mid'].join('\n');
  const count = countRequests(log);
  assert.equal(count, { total: 3, byVerb: { list: 1, patch: 2 } });
  assert.is(describeCount(count), '3 (patch 2, list 1)');
});

test('ratios and slopes for the report', () => {
  assert.is(ratio(2000, 1000), '2.00×');
  assert.is(ratio(NaN, 1000), '–');
  assert.is(slope([[15, 4], [55, 12], [105, 22]]).toFixed(3), '0.200');
  assert.ok(Number.isNaN(slope([[1, 1]])));
});

test.run();
