// The pipeline against a real API server (issue 3): `npm run up -- --cluster current` and
// `npm run down -- --cluster current` run as a person runs them, with KUBECONFIG pointing
// at the test control plane (real etcd, kube-apiserver, controller-manager, scheduler; kwok
// as the kubelet; the ingress-nginx stand-in). Image build and load are skipped: the images
// are treated as prebuilt, which kwok never pulls anyway. `up` needs a ready Dapr control
// plane, which kwok cannot run: the project's Dapr stand-in (lib/cluster/dapr-stand-in.ts)
// is applied to dapr-system first; it carries no label of the stack, so the recording below
// never sees it. A watch started before each command records what happens to the stack's
// objects, ordered by store revision.
import { freePort } from '../../lib/free-port.ts';
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { NEVER_READY_ANNOTATION, startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { watchUntil } from '../../lib/kube/watch.ts';
import { MANAGED, outOfOrder, recordStackEvents, STACK_KINDS, type EventRecorder, type RecordedEvent } from './support/event-recorder.ts';
import { runScript, show, STACK_LINE, type ScriptResult } from '../support/run-script.ts';

const NS = 'todo';
const GATE_SECONDS = 120;

interface Ctx {
  plane?: ControlPlane;
  recorder?: EventRecorder;
  env?: NodeJS.ProcessEnv;
  firstUp?: ScriptResult;
  /** recorder.events.length when the first up started. */
  mark?: number;
  tmp?: string;
}

const test = suite<Ctx>('up and down against a real control plane');

// uvu 0.5 swallows an error thrown in a before hook and reports "(0 / N)" with no reason: keep
// it and fail every test with it instead.
let setupError: unknown;

test.before(async (ctx) => {
  try {
    await setUp(ctx);
  } catch (err) {
    setupError = err;
    console.error(`  set-up failed: ${(err as Error)?.stack ?? String(err)}`);
  }
});

test.before.each(() => {
  if (setupError) throw setupError;
});

async function setUp(ctx: Ctx): Promise<void> {
  ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
  await applyDaprStandIn(ctx.plane.kc);
  ctx.tmp = mkdtempSync(join(tmpdir(), 'todo-deploy-it-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: ctx.plane.kubeconfig, FORCE_COLOR: '0', NO_COLOR: '1' };
  // Secrets as CI passes them: from the environment (the embedded dev PostgreSQL is used).
  env.OPENAI_API_KEY = 'sk-integration-test-not-a-real-key';
  env.BETTER_AUTH_SECRET = 'integration-test-auth-secret-0123456789abcdef';
  delete env.DATABASE_URL;
  ctx.env = env;
  ctx.recorder = recordStackEvents(ctx.plane.kc);
  await ctx.recorder.ready;
}

test.after(async (ctx) => {
  ctx.recorder?.stop();
  await ctx.plane?.stop();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

const upArgs = (...extra: string[]) => ['--cluster', 'current', '--skip-images', '--env', 'dev', '--namespace', NS, '--timeout', String(GATE_SECONDS), ...extra];

/** Every object of the stack in the cluster now, by kind and id, with its resourceVersion. */
async function snapshot(ctx: Ctx): Promise<Map<string, string>> {
  const api = KubernetesObjectApi.makeApiClient(ctx.plane!.kc);
  const out = new Map<string, string>();
  for (const ref of STACK_KINDS) {
    const list = await api.list(ref.apiVersion, ref.kind, undefined, undefined, undefined, undefined, undefined, MANAGED);
    for (const obj of list.items) {
      const m = obj.metadata!;
      out.set(`${ref.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`, m.resourceVersion!);
    }
  }
  return out;
}

const firstOf = (events: RecordedEvent[], type: RecordedEvent['type']) => {
  const seen = new Map<string, RecordedEvent>();
  for (const e of events) if (e.type === type && !seen.has(`${e.kind} ${e.id}`)) seen.set(`${e.kind} ${e.id}`, e);
  return [...seen.values()];
};

test('1. up creates every object of the manifests, stage after stage', async (ctx) => {
  ctx.mark = ctx.recorder!.events.length;
  const result = await runScript('up', upArgs(), ctx.env!);
  ctx.firstUp = result;
  assert.is(result.code, 0, show(result));
  assert.equal(ctx.recorder!.errors, []);

  const created = firstOf(ctx.recorder!.events.slice(ctx.mark), 'ADDED');
  const stages = new Set(created.map((e) => e.stage));
  assert.equal([...stages].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'an object of every stage was created');
  assert.equal(outOfOrder(created, 'ascending'), [], 'every object of stage k is created before any of stage k+1');

  // Every object of the stack now in the cluster was seen being created by this run.
  const now = await snapshot(ctx);
  const createdIds = new Set(created.map((e) => `${e.kind} ${e.id}`));
  assert.equal([...now.keys()].filter((id) => !createdIds.has(id)), []);
  assert.ok(now.size >= 40, `the whole stack is there (${now.size} objects)`);
});

test('2. the gates pass for real: rollouts by the controller-manager, ready endpoints, an Ingress address', async (ctx) => {
  assert.is(ctx.firstUp?.code, 0, 'the first up succeeded');
  const { kc } = ctx.plane!;
  const core = kc.makeApiClient(CoreV1Api);
  const api = KubernetesObjectApi.makeApiClient(kc);

  const deployments = (await api.list('apps/v1', 'Deployment', NS)).items as any[];
  assert.ok(deployments.length >= 3);
  for (const d of deployments) {
    assert.ok(d.status.observedGeneration >= d.metadata.generation, `${d.metadata.name} observed`);
    assert.is(d.status.availableReplicas, d.spec.replicas, `${d.metadata.name} available`);
    assert.is(d.status.updatedReplicas, d.spec.replicas, `${d.metadata.name} updated`);
  }
  const pods = (await core.listNamespacedPod({ namespace: NS })).items;
  for (const p of pods) {
    assert.is(p.spec?.nodeName, ctx.plane!.nodes[0], `${p.metadata?.name} scheduled by kube-scheduler onto the kwok node`);
    assert.ok(p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${p.metadata?.name} ready`);
  }

  const services = (await core.listNamespacedService({ namespace: NS })).items;
  for (const s of services) {
    const slices = (await api.list('discovery.k8s.io/v1', 'EndpointSlice', NS, undefined, undefined, undefined, undefined, `kubernetes.io/service-name=${s.metadata!.name}`)).items as any[];
    const ready = slices.flatMap((sl) => sl.endpoints ?? []).filter((e: any) => e.conditions?.ready);
    assert.ok(ready.length >= 1, `service ${s.metadata!.name} has a ready endpoint`);
  }

  const ingresses = (await api.list('networking.k8s.io/v1', 'Ingress', NS)).items as any[];
  assert.is(ingresses.length, 1);
  assert.is(ingresses[0].status?.loadBalancer?.ingress?.[0]?.ip, '127.0.0.1');
  assert.ok(ctx.plane!.ingress!.served.some((s) => s.namespace === NS && s.name === ingresses[0].metadata.name), 'the stand-in was asked to serve it');

  // up waited at the Deployments gate: every Deployment was available before the Ingress was created.
  const events = ctx.recorder!.events.slice(ctx.mark);
  const ingressCreated = firstOf(events, 'ADDED').find((e) => e.kind === 'Ingress')!;
  for (const d of deployments) {
    const available = events.find((e) => e.kind === 'Deployment' && e.id === `${NS}/${d.metadata.name}` && e.object.status?.availableReplicas === e.object.spec.replicas);
    assert.ok(available, `saw ${d.metadata.name} become available`);
    assert.ok(available!.revision < ingressCreated.revision, `${d.metadata.name} was available (revision ${available!.revision}) before the Ingress was created (${ingressCreated.revision})`);
  }
  assert.match(ctx.firstUp!.output, /deployed/i);
});

test('3. a second up changes nothing and exits 0', async (ctx) => {
  const { kc } = ctx.plane!;
  // The deployment controller's last status write comes with NewReplicaSetAvailable; wait for
  // it so that only up itself could move a resourceVersion from here on.
  const deployments = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
  await watchUntil(
    clusterFromKubeConfig(kc),
    { kind: deployments, namespace: NS },
    (ds) => ({
      done: ds.length > 0 && ds.every((d) => d.status?.conditions?.some((c: any) => c.type === 'Progressing' && c.reason === 'NewReplicaSetAvailable')),
    }),
    { deadline: Date.now() + 60_000, goal: 'every Deployment to report NewReplicaSetAvailable' },
  );
  const before = await snapshot(ctx);
  const mark = ctx.recorder!.events.length;
  const result = await runScript('up', upArgs(), ctx.env!);
  assert.is(result.code, 0, show(result));
  const after = await snapshot(ctx);
  const moved = [...after].filter(([id, rv]) => before.get(id) !== rv).map(([id, rv]) => `${id}: ${before.get(id)} -> ${rv}`);
  assert.equal(moved, [], 'no resourceVersion moved');
  assert.is(after.size, before.size);
  assert.equal(ctx.recorder!.events.slice(mark).map((e) => `${e.type} ${e.kind} ${e.id}`), [], 'no change was recorded');
});

test('4. down deletes in reverse stage order, waits, and the namespace is gone when it exits 0', async (ctx) => {
  const before = await snapshot(ctx);
  const mark = ctx.recorder!.events.length;
  const result = await runScript('down', ['--cluster', 'current', '--env', 'dev', '--namespace', NS], ctx.env!);
  assert.is(result.code, 0, show(result));
  // Checked right after exit: down must have waited for the namespace to go.
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const gone = await core.readNamespace({ name: NS }).then(
    () => false,
    (err) => (err as { code?: number }).code === 404,
  );
  assert.ok(gone, `namespace ${NS} is gone when down exits`);

  const deleted = firstOf(ctx.recorder!.events.slice(mark), 'DELETED');
  const deletedIds = new Set(deleted.map((e) => `${e.kind} ${e.id}`));
  assert.equal([...before.keys()].filter((id) => !deletedIds.has(id)), [], 'every object was deleted');
  assert.equal(outOfOrder(deleted, 'descending'), [], 'every object of stage k+1 is gone before any of stage k');
  assert.is(deleted.at(-1)?.kind, 'Namespace');
  assert.equal(ctx.recorder!.errors, []);
});

/** manifests/ copied, with the backend Deployment's pods annotated never-ready. */
function neverReadyManifests(dir: string): string {
  const out = join(dir, 'manifests-never-ready');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const src = join(REPO_ROOT, 'manifests');
  let annotated = 0;
  for (const f of readdirSync(src).filter((name) => /\.ya?ml$/.test(name))) {
    const text = readFileSync(join(src, f), 'utf8');
    const docs = parseAllDocuments(text);
    let changed = false;
    for (const doc of docs) {
      if (doc.get('kind') === 'Deployment' && doc.getIn(['metadata', 'name']) === 'backend') {
        doc.setIn(['spec', 'template', 'metadata', 'annotations', NEVER_READY_ANNOTATION], 'true');
        changed = true;
        annotated++;
      }
    }
    writeFileSync(join(out, f), changed ? docs.map((d) => d.toString()).join('') : text);
  }
  assert.is(annotated, 1, 'the backend Deployment was found and annotated');
  return out;
}

test('5. a deployment that never becomes ready fails its gate: exit 1 naming the deployment, its pod and the reason', async (ctx) => {
  const manifests = neverReadyManifests(ctx.tmp!);
  const mark = ctx.recorder!.events.length;
  const gate = 15;
  // --no-rollback: the failed state stays for inspection (else this first install would remove what it created).
  const args = ['--cluster', 'current', '--skip-images', '--env', 'dev', '--namespace', NS, '--manifests', manifests, '--timeout', String(gate), '--no-rollback'];
  const result = await runScript('up', args, ctx.env!);
  assert.is(result.code, 1, show(result));
  assert.ok(result.ms < (gate + 90) * 1000, `it fails at the deadline, not much later (${result.ms} ms)`);
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const pods = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=backend' })).items;
  assert.is(pods.length, 1);
  const pod = pods[0];
  assert.is(pod.status?.phase, 'Running');
  assert.ok(pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'), 'kwok kept it unready');
  assert.match(result.output, /Deployment todo\/backend/);
  assert.ok(result.output.includes(pod.metadata!.name!), `the output names pod ${pod.metadata!.name}:\n${result.output}`);
  assert.match(result.output, /not ready/);
  assert.not.match(result.output, STACK_LINE);
  // The failed gate stopped the run: the stage after it was never applied.
  const created = firstOf(ctx.recorder!.events.slice(mark), 'ADDED');
  assert.not.ok(created.some((e) => e.kind === 'Ingress'), 'no Ingress was created after the failed gate');
  assert.ok(created.some((e) => e.kind === 'Deployment'), 'the Deployments were applied');
});

test('6. an unreachable API server: exit 1 naming the server, no stack trace', async (ctx) => {
  // A port just released by a listener: nothing answers there.
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const kubeconfig = join(ctx.tmp!, 'unreachable.kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: gone, cluster: {server: "' + server + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: not-a-token}}]',
      'contexts: [{name: gone, context: {cluster: gone, user: u}}]',
      'current-context: gone',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const result = await runScript('up', upArgs(), { ...ctx.env!, KUBECONFIG: kubeconfig }, 120_000);
  assert.is(result.code, 1, show(result));
  assert.ok(result.output.includes(`127.0.0.1:${port}`), `the output names the server:\n${result.output}`);
  assert.not.match(result.output, STACK_LINE);
  // "Fails fast": seconds, against a gate deadline of minutes.
  assert.ok(result.ms < 60_000, `it gives up quickly (${result.ms} ms)`);
});

/** Every Namespace in the cluster now, with its resourceVersion. */
async function namespaces(ctx: Ctx): Promise<Map<string, string>> {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  return new Map((await core.listNamespace()).items.map((n) => [n.metadata!.name!, n.metadata!.resourceVersion!]));
}

/** Runs up, which must refuse with exit 2 naming `expected`; then the cluster is as it was. */
async function refusedWithNothingApplied(ctx: Ctx, args: string[], expected: string[]): Promise<void> {
  const before = await snapshot(ctx);
  const nsBefore = await namespaces(ctx);
  const mark = ctx.recorder!.events.length;
  const result = await runScript('up', args, ctx.env!);
  assert.is(result.code, 2, show(result));
  for (const text of expected) assert.ok(result.output.includes(text), `the output names "${text}":\n${result.output}`);
  assert.not.match(result.output, STACK_LINE);
  assert.equal([...(await snapshot(ctx))], [...before], 'no object of the stack was created, changed or deleted');
  assert.equal([...(await namespaces(ctx))], [...nsBefore], 'no namespace was created, changed or deleted');
  assert.equal(ctx.recorder!.events.slice(mark).map((e) => `${e.type} ${e.kind} ${e.id}`), [], 'no change was recorded');
}

test('7. --namespace kube-system exits 2 naming the flag and the fix; nothing is applied', async (ctx) => {
  await refusedWithNothingApplied(ctx, ['--cluster', 'current', '--skip-images', '--env', 'dev', '--namespace', 'kube-system'], ['--namespace NAMESPACE: "kube-system" is a system namespace', 'Fix: give the stack a namespace of its own']);
  const api = KubernetesObjectApi.makeApiClient(ctx.plane!.kc);
  for (const ref of STACK_KINDS.filter((k) => k.kind !== 'Namespace')) {
    const managed = await api.list(ref.apiVersion, ref.kind, 'kube-system', undefined, undefined, undefined, undefined, MANAGED);
    assert.equal(managed.items.map((o) => o.metadata?.name), [], `no managed ${ref.kind} in kube-system`);
  }
});

test('8. an extra Namespace in the manifests exits 2 naming its file and line; nothing is applied', async (ctx) => {
  const dir = join(ctx.tmp!, 'extra-namespace');
  cpSync(join(REPO_ROOT, 'manifests'), dir, { recursive: true, filter: (src) => !src.includes('crds') });
  const file = join(dir, '01-scratch.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: scratch\n  labels: {app.kubernetes.io/name: scratch, app.kubernetes.io/part-of: todo, app.kubernetes.io/managed-by: todo-deploy}\n');
  await refusedWithNothingApplied(ctx, upArgs('--manifests', dir), ['The policy gate refused the manifests; nothing was sent to a cluster', `config/single-namespace  Namespace/scratch  `, `extra-namespace/01-scratch.yaml:4`]);
});

test.run();
