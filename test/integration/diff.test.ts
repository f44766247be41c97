// `npm run diff` against a real API server: a fresh namespace (everything to create), the
// stack as `up` left it (exit 0, nothing listed), one image reference changed (exactly that
// Deployment's field), a changed secret (its key named, no value of it, old or new, in any
// form), and an object `up` made that the plan no longer has (prune), an unlabelled one not.
// Also what the diff first showed: every field of a manifest reaches the cluster (a
// NetworkPolicy rule's `from` was dropped by the client library's typed models).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { getJson, requestJson } from '../../lib/kube/raw.ts';
import { secretForms } from '../../lib/output.ts';
import { runScript, show } from '../support/run-script.ts';

const NS = 'todo-diff';
const OPENAI_KEY = 'sk-diff-integration-key-first-0451';
const OPENAI_KEY_NEXT = 'sk-diff-integration-key-second-0452';

interface Ctx {
  plane?: ControlPlane;
  env?: NodeJS.ProcessEnv;
}

const test = suite<Ctx>('npm run diff against a real control plane');

let setupError: unknown;
test.before(async (ctx) => {
  try {
    ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
    await applyDaprStandIn(ctx.plane.kc);
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: ctx.plane.kubeconfig, FORCE_COLOR: '0', NO_COLOR: '1' };
    env.OPENAI_API_KEY = OPENAI_KEY;
    env.BETTER_AUTH_SECRET = 'diff-integration-auth-secret-0123456789abcdef';
    delete env.DATABASE_URL;
    ctx.env = env;
  } catch (err) {
    setupError = err;
    console.error(`  set-up failed: ${(err as Error)?.stack ?? String(err)}`);
  }
});
test.before.each(() => {
  if (setupError) throw setupError;
});
test.after(async (ctx) => {
  await ctx.plane?.stop();
});

const args = (...extra: string[]) => ['--cluster', 'current', '--env', 'dev', '--namespace', NS, ...extra];

interface Report {
  changed: boolean;
  summary: { create: number; update: number; unchanged: number; prune: number };
  changes: Array<{ kind: string; name: string; namespace?: string; action: string; changes: Array<{ path: string; change: string; from?: unknown; to?: unknown }> }>;
}

function parse(output: string): Report {
  return JSON.parse(output.slice(output.indexOf('{'))) as Report;
}

test('a fresh namespace: every object of the plan is to create, exit 1', async (ctx) => {
  const r = await runScript('diff', args('--output', 'json'), ctx.env!);
  assert.is(r.code, 1, show(r));
  const report = parse(r.output);
  assert.ok(report.changed);
  assert.ok(report.summary.create >= 40, `the whole stack is to create: ${JSON.stringify(report.summary)}`);
  assert.equal({ ...report.summary, create: 0 }, { create: 0, update: 0, unchanged: 0, prune: 0 });
  assert.ok(report.changes.every((c) => c.action === 'create' && c.changes.length === 0));
  assert.equal(report.changes[0]!.kind, 'Namespace', 'in creation order');
});

test('after up: exit 0 and nothing listed', async (ctx) => {
  const up = await runScript('up', args('--skip-images', '--timeout', '120'), ctx.env!);
  assert.is(up.code, 0, show(up));
  const r = await runScript('diff', args(), ctx.env!);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /^No changes: \d+ object\(s\) in namespace todo-diff of context \S+ are as planned\.$/m);
  assert.is(r.output.trim().split('\n').length, 1, show(r));
  const json = await runScript('diff', args('--output', 'json'), ctx.env!);
  assert.is(json.code, 0, show(json));
  assert.equal(parse(json.output).changes, []);
});

test("every field of a manifest reached the cluster: a NetworkPolicy rule's from", async (ctx) => {
  const cluster = clusterFromKubeConfig(ctx.plane!.kc);
  const policy = await getJson<{ spec: { ingress: Array<{ from?: unknown[] }> } }>(cluster, `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/frontend-to-backend-ingress`);
  assert.equal(policy.spec.ingress[0]!.from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'frontend' } } }]);
});

test("one image reference changed: exactly that Deployment's image field", async (ctx) => {
  const r = await runScript('diff', args('--backend-image', 'todo-backend-next', '--output', 'json'), ctx.env!);
  assert.is(r.code, 1, show(r));
  const report = parse(r.output);
  assert.equal(report.summary.update, 1);
  assert.equal(report.summary.create + report.summary.prune, 0);
  assert.equal(report.changes, [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS,
      name: 'backend',
      action: 'update',
      changes: [{ path: 'spec.template.spec.containers[name=backend].image', change: 'changed', from: 'todo-backend:0.1.0', to: 'todo-backend-next:0.1.0' }],
    },
  ] as unknown as Report['changes']);
  const text = await runScript('diff', args('--backend-image', 'todo-backend-next'), ctx.env!);
  assert.is(text.code, 1, show(text));
  assert.match(text.output, '~ update  Deployment/todo-diff/backend\n      spec.template.spec.containers[name=backend].image: "todo-backend:0.1.0" -> "todo-backend-next:0.1.0"');
});

test('a changed secret: its key is named, no value of it (old or new) appears in any form', async (ctx) => {
  const env = { ...ctx.env!, OPENAI_API_KEY: OPENAI_KEY_NEXT };
  for (const extra of [[], ['--output', 'json'], ['--debug']]) {
    const r = await runScript('diff', args(...extra), env);
    assert.is(r.code, 1, show(r));
    assert.match(r.output, 'data.openai-api-key');
    for (const form of [...secretForms(OPENAI_KEY), ...secretForms(OPENAI_KEY_NEXT)]) assert.not.ok(r.output.includes(form), `a form of a secret value was printed (${extra.join(' ')}):\n${r.output}`);
    // Not even redacted: the diff never tries to print a value.
    assert.not.match(r.output, '[redacted]');
  }
});

test('prune: a labelled object the plan lacks is listed, an unlabelled one is not', async (ctx) => {
  const cluster = clusterFromKubeConfig(ctx.plane!.kc);
  const service = (name: string, labels: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, labels },
    spec: { ports: [{ port: 80 }], selector: { app: name } },
  });
  for (const [name, labels] of [['retired-api', { 'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/part-of': 'todo' }], ['someone-elses', { app: 'theirs' }]] as const) {
    await requestJson(cluster, 'PATCH', `/api/v1/namespaces/${NS}/services/${name}`, { query: { fieldManager: 'diff-test', force: 'true' }, body: service(name, labels), contentType: 'application/apply-patch+yaml' });
  }
  const r = await runScript('diff', args('--output', 'json'), ctx.env!);
  assert.is(r.code, 1, show(r));
  const report = parse(r.output);
  assert.equal(report.changes.map((c) => `${c.action} ${c.kind}/${c.name}`), ['prune Service/retired-api']);
});

test.run();
