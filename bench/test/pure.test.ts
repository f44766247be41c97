// Unit tests for the benchmark's pure parts: statistics and cells, snapshot diffs, order
// analysis, rendering for the peer tools, the tool list and commands, version parsing.
// Run: npx uvu -r tsx bench/test
import { suite } from '../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments } from 'yaml';
import { diffSnapshots, kindSequence, orderInversions, type StackEvent } from '../cluster-state.ts';
import { displayCommand, mask } from '../measure.ts';
import { parseToolList, toolPlans } from '../peers.ts';
import { escapeForHelm, filesOf, renderStack, SECRET_FILE, yamlOf, BENCH_SECRETS } from '../render.ts';
import { cell, median, selfTimings, summarize, warmCell, type Sample } from '../report.ts';
import { buildCommand, parseToolVersions, toolsDirFor, versionLine } from '../tools.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';

const test = suite('bench: pure parts');

const sample = (ms: number, ok = true, extra: Partial<Sample> = {}): Sample => ({ run: 1, ms, ok, steps: [], load1: 0, ...extra });

test('median, min and max over the successful runs only', () => {
  assert.is(median([3, 1, 2]), 2);
  assert.is(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const s = summarize([sample(3000), sample(1000), sample(99_000, false), sample(2000)]);
  assert.equal(s, { median: 2000, min: 1000, max: 3000, ok: 3, total: 4 });
});

test('a table cell shows median, range and failures', () => {
  assert.is(cell([sample(2500), sample(2000), sample(3100)]), '**2.50 s** (2.00 s – 3.10 s)');
  assert.is(cell([sample(12_345)]), '**12.3 s**');
  assert.is(cell([sample(1000), sample(5, false)]), '**1.00 s**; 1/2 failed');
  assert.is(cell([sample(5, false)]), 'failed (1/1)');
  assert.is(cell([]), 'not run');
});

test('the warm cell tells no-ops from writes, and counts the tool\'s own records apart', () => {
  const none = { changed: [], added: [], removed: [] };
  assert.is(warmCell([sample(1, true, { stackChanges: none, recordChanges: none })], 44), 'no (0 of 44 objects)');
  const wrote = { changed: ['Deployment todo/backend', 'Secret todo/todo-secrets'], added: [], removed: [] };
  const helmRecords = { changed: ['Secret default/sh.helm.release.v1.todo.v1'], added: ['Secret default/sh.helm.release.v1.todo.v2'], removed: [] };
  assert.is(warmCell([sample(1, true, { stackChanges: wrote, recordChanges: helmRecords })], 44), "**yes**: 2 of 44 objects; 2 record write(s) of its own");
});

test('snapshot diff: changed, added and removed ids', () => {
  const before = new Map([['A', '1'], ['B', '2'], ['C', '3']]);
  const after = new Map([['A', '1'], ['B', '5'], ['D', '7']]);
  assert.equal(diffSnapshots(before, after), { changed: ['B'], added: ['D'], removed: ['C'] });
  assert.equal(diffSnapshots(before, new Map(before)), { changed: [], added: [], removed: [] });
});

const ev = (type: StackEvent['type'], kind: string, stage: number, id: string, revision: number): StackEvent => ({ type, kind, stage, id, revision });

test('order analysis: inversions against the data model, by store revision not arrival', () => {
  const good = [ev('ADDED', 'Service', 8, 's', 30), ev('ADDED', 'Namespace', 1, 'n', 10), ev('ADDED', 'Deployment', 9, 'd', 40)];
  assert.equal(orderInversions(good, 'ADDED'), []);
  const bad = [ev('ADDED', 'Namespace', 1, 'n', 10), ev('ADDED', 'Deployment', 9, 'd1', 20), ev('ADDED', 'Deployment', 9, 'd2', 21), ev('ADDED', 'Service', 8, 's', 30)];
  assert.equal(orderInversions(bad, 'ADDED'), ['Deployment before Service (2)']);
  // Deletion runs the other way: the namespace last is right.
  const del = [ev('DELETED', 'Ingress', 10, 'i', 50), ev('DELETED', 'Namespace', 1, 'n', 60)];
  assert.equal(orderInversions(del, 'DELETED'), []);
  assert.equal(orderInversions([...del].reverse().map((e, i) => ({ ...e, revision: 70 + i })), 'DELETED'), ['Namespace before Ingress (1)']);
});

test('kind sequence collapses runs and ignores a second event of the same object', () => {
  const events = [ev('ADDED', 'Namespace', 1, 'n', 1), ev('ADDED', 'Role', 4, 'r1', 2), ev('ADDED', 'Role', 4, 'r2', 3), ev('ADDED', 'Role', 4, 'r1', 4), ev('DELETED', 'Role', 4, 'r1', 5), ev('ADDED', 'Service', 8, 's', 6)];
  assert.is(kindSequence(events, 'ADDED'), 'Namespace, Role ×2, Service');
  assert.is(kindSequence(events, 'DELETED'), 'Role');
});

test('rendering: one file per manifest file plus the Secret, in YAML the Go tools read the same way', () => {
  const stack = renderStack(REPO_ROOT, 'dev', { ...BENCH_SECRETS });
  const files = filesOf(stack.plan);
  const names = [...files.keys()];
  assert.is(names[0], '00-namespace.yaml');
  assert.is(names[1], SECRET_FILE);
  assert.is([...files.values()].flat().length, stack.objects.length);
  assert.equal(files.get(SECRET_FILE)!.map((o) => o.kind), ['Secret']);
  // YAML 1.1 readers (kubectl, helm, kapp) take a bare `no` for false: strings must stay strings.
  const text = yamlOf([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'no', b: 'on', c: 'yes' } }]);
  assert.ok(/a: "no"/.test(text), text);
  assert.equal(parse(text, { version: '1.1' }).data, { a: 'no', b: 'on', c: 'yes' });
  // Every rendered file reads back (as YAML 1.1) to exactly the objects `up` applies.
  const back = [...files.values()].map((objects) => parseAllDocuments(yamlOf(objects), { version: '1.1' }).map((d) => d.toJS()));
  assert.equal(back.flat(), [...files.values()].flat());
});

test('helm templates pass the rendered text through verbatim', () => {
  assert.is(escapeForHelm('a: b'), 'a: b');
  assert.is(escapeForHelm('x: "{{ y }}"'), 'x: "{{ "{{" }} y }}"');
});

test('tool list: default all, subset in fixed order, unknown names refused', () => {
  assert.equal(parseToolList(undefined), ['todo-deploy', 'kubectl', 'helm', 'kapp']);
  assert.equal(parseToolList('kapp, kubectl'), ['kubectl', 'kapp']);
  assert.throws(() => parseToolList('skaffold'), /unknown tool skaffold/);
});

test('the commands each tool runs', () => {
  const plans = toolPlans({ repoRoot: '/r', env: 'dev', namespace: 'todo', bin: { kubectl: '/b/kubectl', helm: '/b/helm', kapp: '/b/kapp' }, renderedDir: '/t/rendered', chartDir: '/t/chart', timeoutSeconds: 300 });
  const show = (s: { name: string; args: string[] }) => displayCommand(s.name, s.args);
  assert.equal(plans['todo-deploy'].phases.cold.map(show), ['npm run -s up -- --cluster current --skip-images --env dev']);
  assert.equal(plans['todo-deploy'].phases.down.map(show), ['npm run -s down -- --cluster current --env dev']);
  assert.is(plans.kubectl.phases.cold.length, 3);
  assert.is(plans.kubectl.phases.cold[0].attempts, 3, 'a person re-runs apply on an ordering failure');
  assert.is(show(plans.kubectl.phases.down[0]), 'kubectl delete -f /t/rendered --wait --timeout=300s');
  assert.equal(plans.kubectl.phases.down[0].retryArgs, ['delete', '-f', '/t/rendered', '--ignore-not-found', '--wait', '--timeout=300s'], 'a NotFound race is met with --ignore-not-found');
  assert.is(show(plans.helm.phases.cold[0]), 'helm upgrade --install todo /t/chart --namespace default --wait --timeout 300s');
  assert.is(show(plans.kapp.phases.down[0]), 'kapp delete -a todo -y --color=false');
  assert.equal(plans.kapp.phases.cold, plans.kapp.phases.warm, 'warm repeats cold unchanged');
});

test('mask hides secret values and the temporary folder', () => {
  assert.is(mask('key=supersecret in /tmp/x/rendered', ['supersecret'], [['/tmp/x', '<tmp>']]), 'key=[redacted] in <tmp>/rendered');
  assert.is(displayCommand('kubectl', ['wait', '--for=jsonpath={.status}', "it's"]), `kubectl wait --for=jsonpath={.status} 'it'\\''s'`);
});

test('tool versions: parsed, checked, and named in the cache folder', () => {
  const v = parseToolVersions('# c\nHELM_MODULE=helm.sh/helm/v4\nHELM_VERSION=v4.3.1\nKAPP_VERSION=0.66.0\n', '1.34.4', 'f');
  assert.equal(v, { kubectl: '1.34.4', helmModule: 'helm.sh/helm/v4', helm: '4.3.1', kapp: '0.66.0' });
  assert.throws(() => parseToolVersions('HELM_MODULE=helm.sh/helm/v4\nHELM_VERSION=3.19.0\nKAPP_VERSION=0.66.0', '1.34.4', 'f'), /not a release of helm.sh\/helm\/v4/);
  assert.throws(() => parseToolVersions('HELM_MODULE=helm.sh/helm/v4\nHELM_VERSION=4.3.1', '1.34.4', 'f'), /KAPP_VERSION is missing/);
  assert.is(toolsDirFor(v, { XDG_CACHE_HOME: '/c' }), '/c/todo-deploy/bench-tools/kubectl-1.34.4_helm-4.3.1_kapp-0.66.0');
  assert.is(toolsDirFor(v, { HOME: '/h' }), '/h/.cache/todo-deploy/bench-tools/kubectl-1.34.4_helm-4.3.1_kapp-0.66.0');
  assert.ok(buildCommand('helm', v).args.includes('helm.sh/helm/v4/cmd/helm@v4.3.1'));
  assert.ok(buildCommand('kapp', v).args.includes('carvel.dev/kapp/cmd/kapp'));
  assert.ok(buildCommand('kubectl', v).args.some((a) => a.includes('gitVersion=v1.34.4')));
  assert.is(versionLine('kubectl', 'Client Version: v1.34.4\nKustomize Version: v5.7.1\n'), 'Client Version: v1.34.4');
  assert.is(versionLine('kapp', 'kapp version 0.66.0\n\nSucceeded\n'), 'kapp version 0.66.0');
});

test("todo-deploy's own Durations block becomes one line", () => {
  const out = '✔ done\n\nDurations:\n  cluster                       44ms\n  1. Namespace                  40ms\n  total                         1.3s\n\n✔ The Todo stack is deployed\n';
  assert.is(selfTimings(out), 'cluster 44ms, 1. Namespace 40ms, total 1.3s');
  assert.is(selfTimings('no summary here'), undefined);
});

test.run();
