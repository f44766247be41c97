// Releases the way Helm keeps them, through the real commands against a real control plane
// (etcd, kube-apiserver, controller-manager, scheduler, kwok, the ingress stand-in, the Dapr
// stand-in), read back by the real helm CLI: revisions and history, rollback, fail fast with a
// diagnosis and an atomic up, the lock, interruption, pruning, an API server that goes away,
// and status. Images are treated as prebuilt (--skip-images); kwok never pulls them, and its
// fail-as annotation makes a pod show the failure a kubelet would report.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { ensureTool } from '../../bench/tools.ts';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { FAIL_AS_ANNOTATION, NEVER_READY_ANNOTATION, startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { clusterFromKubeConfig, type Cluster } from '../../lib/kube/client.ts';
import { listObjects } from '../../lib/kube/apply.ts';
import { watchUntil } from '../../lib/kube/watch.ts';
import { KINDS } from '../../lib/kinds.ts';
import { LOCK_NAME } from '../../lib/release/lock.ts';
import { RELEASE_NAME } from '../../lib/release/record.ts';
import { releaseStore } from '../../lib/release/store.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';
import type { KubeObject } from '../../lib/types.ts';
import { runScript, show, startScript, STACK_LINE, type ScriptResult } from '../support/run-script.ts';

const NS = 'todo';
const GATE_SECONDS = 300;

interface Ctx {
  plane?: ControlPlane;
  cluster?: Cluster;
  env?: NodeJS.ProcessEnv;
  helm?: string;
  tmp?: string;
}

const test = suite<Ctx>('releases: history, rollback, fail fast, atomic up, lock, interruption, pruning, faults, status');

let setupError: unknown;
test.before(async (ctx) => {
  try {
    ctx.helm = (await ensureTool('helm', { log: (l) => console.log(`  ${l}`) })).path;
    ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
    ctx.cluster = clusterFromKubeConfig(ctx.plane.kc);
    await applyDaprStandIn(ctx.plane.kc);
    ctx.tmp = mkdtempSync(join(tmpdir(), 'todo-deploy-release-'));
    ctx.env = {
      ...process.env,
      KUBECONFIG: ctx.plane.kubeconfig,
      FORCE_COLOR: '0',
      NO_COLOR: '1',
      OPENAI_API_KEY: 'sk-release-test-not-a-real-key',
      BETTER_AUTH_SECRET: 'release-test-auth-secret-0123456789abcdef',
      TODO_DEPLOY_LEASE_SECONDS: '6',
    };
    delete ctx.env.DATABASE_URL;
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
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

const upArgs = (tag: string, ...extra: string[]) => ['--cluster', 'current', '--skip-images', '--env', 'dev', '--namespace', NS, '--timeout', String(GATE_SECONDS), '--image-tag', tag, ...extra];
const clusterArgs = ['--cluster', 'current', '--env', 'dev', '--namespace', NS];

function helm(ctx: Ctx, args: string[], namespace = NS): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.helm!, [...args, '-n', namespace], {
      env: { ...process.env, KUBECONFIG: ctx.plane!.kubeconfig, HELM_CACHE_HOME: join(ctx.tmp!, 'helm-cache'), HELM_CONFIG_HOME: join(ctx.tmp!, 'helm-config'), HELM_DATA_HOME: join(ctx.tmp!, 'helm-data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function helmJson(ctx: Ctx, args: string[]): Promise<any> {
  const r = await helm(ctx, [...args, '-o', 'json']);
  assert.is(r.code, 0, `helm ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const history = (ctx: Ctx) => releaseStore(ctx.cluster!, NS, RELEASE_NAME).history();
const statuses = async (ctx: Ctx) => (await history(ctx)).map((r) => [r.version, r.info.status]);

async function imagesNow(ctx: Ctx): Promise<Record<string, string>> {
  const list = await ctx.plane!.kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS });
  return Object.fromEntries(list.items.map((d) => [d.metadata!.name!, d.spec!.template.spec!.containers[0]!.image!]));
}

/** Every Deployment available with all its pods Ready. */
async function allReady(ctx: Ctx): Promise<string[]> {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const problems: string[] = [];
  for (const d of (await ctx.plane!.kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS })).items) {
    if ((d.status?.availableReplicas ?? 0) !== d.spec?.replicas) problems.push(`${d.metadata?.name} available ${d.status?.availableReplicas ?? 0}/${d.spec?.replicas}`);
  }
  for (const p of (await core.listNamespacedPod({ namespace: NS })).items) {
    if (p.metadata?.deletionTimestamp) continue;
    if (!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) problems.push(`pod ${p.metadata?.name} not ready`);
  }
  return problems;
}

/** A copy of manifests/ with the backend's pod template annotated (fail-as, never-ready), or other edits. */
function manifestsWith(ctx: Ctx, name: string, edit: (docs: ReturnType<typeof parseAllDocuments>, file: string) => void, drop: string[] = []): string {
  const dir = join(ctx.tmp!, name);
  cpSync(join(REPO_ROOT, 'manifests'), dir, { recursive: true });
  for (const f of drop) rmSync(join(dir, f));
  for (const file of ['80-deployments.yaml', '70-services.yaml']) {
    const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
    edit(docs, file);
    // Every document starts with its own separator, a copied one included.
    writeFileSync(join(dir, file), docs.map((d) => d.toString()).map((t) => (t.startsWith('---') ? t : `---\n${t}`)).join(''));
  }
  return dir;
}

const annotateBackend = (key: string, value: string) => (docs: ReturnType<typeof parseAllDocuments>, file: string) => {
  if (file !== '80-deployments.yaml') return;
  const backend = docs.find((d) => d.getIn(['metadata', 'name']) === 'backend')!;
  backend.setIn(['spec', 'template', 'metadata', 'annotations', key], value);
};

/** Watches the backend's pods and resolves with the time the first shows `reason` (ms since epoch). */
function firstShowing(ctx: Ctx, reason: string): Promise<number> {
  return new Promise((resolve, reject) => {
    watchUntil(
      ctx.cluster!,
      { kind: KINDS.Pod.ref, namespace: NS, labelSelector: 'app.kubernetes.io/name=backend' },
      (pods) => ({ done: pods.some((p) => p.status?.containerStatuses?.some((c: any) => c.state?.waiting?.reason === reason)) }),
      { deadline: Date.now() + 240_000, goal: `a backend pod to show ${reason}` },
    ).then(() => resolve(Date.now()), reject);
  });
}

/** `status --output json`, parsed. */
async function statusReport(ctx: Ctx): Promise<{ release: any; entities: { entity: string; kind: string; name: string; state: string }[] }> {
  const r = await runScript('status', [...clusterArgs, '--output', 'json'], ctx.env!);
  assert.is(r.code, 0, show(r));
  return JSON.parse(r.output);
}

/** The pod states the cluster shows, in the Pod diagram's words for the states these tests make. */
async function clusterPodStates(ctx: Ctx): Promise<Record<string, string>> {
  const pods = (await ctx.plane!.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp);
  return Object.fromEntries(
    pods.map((p) => {
      const waiting = p.status?.containerStatuses?.map((c) => c.state?.waiting?.reason).find(Boolean);
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return [p.metadata!.name!, ready ? 'Ready' : (waiting ?? p.status?.phase ?? 'unknown')];
    }),
  );
}

/** Kind/name of every object of the recorded manifest, and of every object in the namespace labelled managed by todo-deploy. */
async function recordedAndManaged(ctx: Ctx, manifest: string): Promise<{ recorded: string[]; managed: string[] }> {
  const docs = parseAllDocuments(manifest).map((d) => d.toJS()).filter(Boolean) as KubeObject[];
  const recorded = docs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  const managed: string[] = [];
  const kinds = new Map(docs.map((o) => [`${o.apiVersion} ${o.kind}`, o]));
  for (const o of kinds.values()) {
    const namespaced = o.kind !== 'Namespace';
    const list = await listObjects(ctx.cluster!, o.apiVersion, o.kind, namespaced ? NS : undefined, 'app.kubernetes.io/managed-by=todo-deploy');
    for (const item of list?.items ?? []) if (namespaced || item.metadata.name === NS) managed.push(`${o.kind}/${item.metadata.name}`);
  }
  return { recorded, managed: managed.sort() };
}

// ---------------------------------------------------------------------------------------------

test('three ups with changed image tags make revisions 1-3; history and the real helm list them alike', async (ctx) => {
  for (const tag of ['1.0.0', '1.0.1', '1.0.2']) {
    const r = await runScript('up', upArgs(tag), ctx.env!);
    assert.is(r.code, 0, show(r));
    assert.match(r.output, new RegExp(`revision ${tag === '1.0.0' ? 1 : tag === '1.0.1' ? 2 : 3}`));
  }
  assert.equal(await statuses(ctx), [[1, 'superseded'], [2, 'superseded'], [3, 'deployed']]);
  const ours = await runScript('history', [...clusterArgs, '--output', 'json'], ctx.env!);
  assert.is(ours.code, 0, show(ours));
  const rows = JSON.parse(ours.output);
  assert.equal(rows.map((r: any) => [r.revision, r.status, r.description]), [[1, 'superseded', 'Install complete'], [2, 'superseded', 'Upgrade complete'], [3, 'deployed', 'Upgrade complete']]);
  const theirs = await helmJson(ctx, ['history', RELEASE_NAME]);
  assert.equal(theirs.map((h: any) => [h.revision, h.status, h.description]), rows.map((r: any) => [r.revision, r.status, r.description]));
  const list = await helmJson(ctx, ['list']);
  assert.equal(list.map((l: any) => [l.name, l.revision, l.status]), [[RELEASE_NAME, '3', 'deployed']]);
  const recorded = (await history(ctx)).find((r) => r.version === 3)!.manifest;
  const manifest = await helm(ctx, ['get', 'manifest', RELEASE_NAME]);
  assert.is(manifest.stdout, `${recorded}\n`, 'helm get manifest prints the recorded manifest');
  assert.ok(recorded.includes('todo-backend:1.0.2'));
  for (const secret of ['sk-release-test-not-a-real-key', 'release-test-auth-secret-0123456789abcdef', Buffer.from('sk-release-test-not-a-real-key').toString('base64')]) {
    assert.not.ok(recorded.includes(secret), 'no secret value in the record');
  }
  assert.match(recorded, /todo-deploy\.dev\/secret-keys: better-auth-secret,database-url,openai-api-key,postgres-password/);
  const values = await helmJson(ctx, ['get', 'values', RELEASE_NAME]);
  assert.is(values.backend.image.tag, '1.0.2');
  assert.is(values.settings.NAMESPACE, NS);
});

test('rollback --to 1 re-applies revision 1 through the gated path, restores its tags and records revision 4', async (ctx) => {
  const r = await runScript('rollback', [...clusterArgs, '--to', '1', '--timeout', String(GATE_SECONDS)], ctx.env!);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /Stage 9\/10 Deployments/);
  assert.equal(Object.values(await imagesNow(ctx)).filter((i) => i.startsWith('todo-')).every((i) => i.endsWith(':1.0.0')), true, JSON.stringify(await imagesNow(ctx)));
  assert.equal(await statuses(ctx), [[1, 'superseded'], [2, 'superseded'], [3, 'superseded'], [4, 'deployed']]);
  const four = (await history(ctx)).find((h) => h.version === 4)!;
  assert.equal([four.info.description, four.info.rollback_revision], ['Rollback to 1', 1]);
  const theirs = await helmJson(ctx, ['history', RELEASE_NAME]);
  assert.equal(theirs.map((h: any) => [h.revision, h.status]), [[1, 'superseded'], [2, 'superseded'], [3, 'superseded'], [4, 'deployed']]);
  assert.equal(await allReady(ctx), []);
  const report = await statusReport(ctx);
  assert.equal([report.release.revision, report.release.status], [4, 'deployed']);
  assert.is(report.entities.find((e) => e.entity === 'Deployment Configuration')!.state, 'Rolledback');
});

async function failingUp(ctx: Ctx, failAs: string, tag: string): Promise<{ r: ScriptResult; seen: number }> {
  const dir = manifestsWith(ctx, `fail-${failAs}`, annotateBackend(FAIL_AS_ANNOTATION, failAs));
  const before = await statuses(ctx);
  const shows = firstShowing(ctx, failAs === 'OOMKilled' ? 'CrashLoopBackOff' : failAs);
  const r = await runScript('up', upArgs(tag, '--manifests', dir), ctx.env!);
  const exited = Date.now();
  const seen = await shows;
  const seconds = (exited - seen) / 1000;
  console.log(`  ${failAs}: ${seconds.toFixed(1)} s from the pod first showing it to up's exit (gate deadline ${GATE_SECONDS} s)`);
  assert.ok(seconds < GATE_SECONDS / 5, `failed fast: ${seconds} s`);
  assert.is(r.code, 1, show(r));
  assert.not.match(r.output, STACK_LINE);
  const n = before.length;
  assert.equal((await statuses(ctx)).slice(n), [[n + 1, 'failed'], [n + 2, 'deployed']], 'the failed revision, then the rollback to the last deployed one');
  return { r, seen };
}

test('a Deployment in CrashLoopBackOff fails the up at once, named; the previous revision is back with its pods Ready', async (ctx) => {
  const { r } = await failingUp(ctx, 'CrashLoopBackOff', '1.0.5');
  assert.match(r.output, /Deployment todo\/backend: pod backend-[a-z0-9-]+, container backend: CrashLoopBackOff/);
  assert.match(r.output, /rolled back to revision 4/i);
  assert.match(r.output, /Back-off restarting failed container/, 'the last warning events');
  const images = await imagesNow(ctx);
  assert.is(images.backend, 'todo-backend:1.0.0', 'revision 4 (= 1) is back');
  assert.equal(await allReady(ctx), []);
  const failed = (await history(ctx)).find((h) => h.version === 5)!;
  assert.match(failed.info.description!, /^Upgrade "todo-app" failed: Deployment todo\/backend: pod backend-\S+, container backend: CrashLoopBackOff/);
});

test('an image that is not there fails the up at once, named; the previous revision is back', async (ctx) => {
  const { r } = await failingUp(ctx, 'ImagePullBackOff', '1.0.6');
  assert.match(r.output, /Deployment todo\/backend: pod backend-[a-z0-9-]+, container backend: ImagePullBackOff/);
  assert.is((await imagesNow(ctx)).backend, 'todo-backend:1.0.0');
  assert.equal(await allReady(ctx), []);
});

test('--no-rollback leaves the failed state for inspection', async (ctx) => {
  const dir = manifestsWith(ctx, 'no-rollback', annotateBackend(FAIL_AS_ANNOTATION, 'CrashLoopBackOff'));
  const n = (await statuses(ctx)).length;
  const r = await runScript('up', upArgs('1.0.7', '--manifests', dir, '--no-rollback'), ctx.env!);
  assert.is(r.code, 1, show(r));
  assert.equal((await statuses(ctx)).slice(n), [[n + 1, 'failed']]);
  assert.is((await imagesNow(ctx)).backend, 'todo-backend:1.0.7', 'the failed revision stays applied');
  // status, checked against the cluster in this failed state: the crashing pod in its own words.
  const report = await statusReport(ctx);
  const cluster = await clusterPodStates(ctx);
  const reported = Object.fromEntries(report.entities.filter((e) => e.entity === 'Kubernetes Pod').map((e) => [e.name, e.state]));
  assert.equal(reported, cluster, 'every pod, in the state the cluster shows');
  assert.ok(Object.values(reported).includes('CrashLoopBackOff'), JSON.stringify(reported));
  assert.equal([report.release.revision, report.release.status], [n + 1, 'failed']);
  assert.is(report.entities.find((e) => e.entity === 'Deployment Configuration')!.state, 'Failed');
  assert.not.equal(report.entities.find((e) => e.entity === 'Application Component' && e.name === 'backend')!.state, 'Healthy');
  const back = await runScript('up', upArgs('1.0.0'), ctx.env!);
  assert.is(back.code, 0, show(back));
});

test('two concurrent ups: exactly one proceeds, the other is refused at once naming the holder', async (ctx) => {
  const a = startScript('up', upArgs('1.1.0'), ctx.env!);
  const b = startScript('up', upArgs('1.1.0'), ctx.env!);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  const codes = [ra.code, rb.code].sort();
  assert.equal(codes, [0, 1], `${show(ra)}\n---\n${show(rb)}`);
  const loser = ra.code === 1 ? ra : rb;
  assert.match(loser.output, /Another run holds the lock on namespace todo: \S+ pid \d+ \(npm run up\), since \d{4}-/);
  assert.ok(loser.ms < 30_000, 'refused at once, not after the winner finished');
});

test('a killed holder\'s lease is refused while fresh and taken over once it expires', async (ctx) => {
  const holder = startScript('up', upArgs('1.2.0'), ctx.env!, 300_000, { direct: true });
  // Killed once it holds the lock and has recorded its revision (pending-upgrade).
  await watchUntil(ctx.cluster!, { kind: KINDS.Secret.ref, namespace: NS, labelSelector: 'owner=helm,status=pending-upgrade' }, (items) => ({ done: items.length > 0 }), { deadline: Date.now() + 120_000, goal: 'a pending revision to be recorded' });
  holder.signal('SIGKILL');
  await holder.done;
  const refused = await runScript('up', upArgs('1.2.0'), ctx.env!);
  assert.is(refused.code, 1, show(refused));
  assert.match(refused.output, /Another run holds the lock/);
  const lease = await ctx.plane!.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LOCK_NAME, namespace: NS });
  const expires = new Date(lease.spec!.renewTime!).getTime() + lease.spec!.leaseDurationSeconds! * 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, expires - Date.now()) + 500));
  const taken = await runScript('up', upArgs('1.2.0'), ctx.env!);
  assert.is(taken.code, 0, show(taken));
  assert.match(taken.output, /took over the lock from \S+ pid \d+/);
  assert.match(taken.output, /was left pending-upgrade by a run that did not finish: marked failed/);
});

test('SIGINT in the Deployments stage: exit 130, the revision failed (interrupted), the lock released; the next up ends deployed', async (ctx) => {
  const dir = manifestsWith(ctx, 'never-ready', annotateBackend(NEVER_READY_ANNOTATION, 'true'));
  const run = startScript('up', upArgs('1.3.0', '--manifests', dir), ctx.env!, 300_000, { direct: true });
  await watchUntil(ctx.cluster!, { kind: KINDS.Deployment.ref, namespace: NS, name: 'backend' }, (items) => ({ done: items[0]?.spec?.template?.spec?.containers?.[0]?.image === 'todo-backend:1.3.0' }), { deadline: Date.now() + 120_000, goal: 'the Deployments stage to apply the backend' });
  run.signal('SIGINT');
  const r = await run.done;
  assert.is(r.code, 130, show(r));
  const last = (await history(ctx)).at(-1)!;
  assert.is(last.info.status, 'failed');
  assert.match(last.info.description!, /interrupted/);
  const gone = await ctx.plane!.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LOCK_NAME, namespace: NS }).then(() => false, (e) => e.code === 404);
  assert.ok(gone, 'the lock was released');
  const next = await runScript('up', upArgs('1.3.1'), ctx.env!);
  assert.is(next.code, 0, show(next));
  assert.is((await history(ctx)).at(-1)!.info.status, 'deployed');
});

test('a manifest removed between two ups: its object is pruned; an unlabelled object is untouched', async (ctx) => {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'someone-elses-sa' } } });
  // A second Service for the backend, in its own document: what a manifest removed later looks like.
  const extra = manifestsWith(ctx, 'with-extra', (docs, file) => {
    if (file !== '70-services.yaml') return;
    const copy = docs.find((d) => d.getIn(['metadata', 'name']) === 'backend-svc')!.clone();
    copy.setIn(['metadata', 'name'], 'extra-svc');
    (docs as unknown[]).push(copy);
  });
  const one = await runScript('up', upArgs('1.4.0', '--manifests', extra), ctx.env!);
  assert.is(one.code, 0, show(one));
  await core.readNamespacedService({ name: 'extra-svc', namespace: NS });
  const two = await runScript('up', upArgs('1.4.0'), ctx.env!);
  assert.is(two.code, 0, show(two));
  assert.match(two.output, /Pruned 1 object\(s\) the plan no longer has: Service\/todo\/extra-svc/);
  const pruned = await core.readNamespacedService({ name: 'extra-svc', namespace: NS }).then(() => false, (e) => e.code === 404);
  assert.ok(pruned, 'extra-svc was pruned');
  await core.readNamespacedServiceAccount({ name: 'someone-elses-sa', namespace: NS });
});

test('kube-apiserver stopped for a few seconds during up and started again: up completes, every object exists once', async (ctx) => {
  const run = startScript('up', upArgs('1.5.0'), ctx.env!);
  await watchUntil(ctx.cluster!, { kind: KINDS.Deployment.ref, namespace: NS, name: 'backend' }, (items) => ({ done: items[0]?.spec?.template?.spec?.containers?.[0]?.image === 'todo-backend:1.5.0' }), { deadline: Date.now() + 120_000, goal: 'the Deployments stage to apply the backend' });
  await ctx.plane!.restart('kube-apiserver', { downMs: 4000 });
  const r = await run.done;
  assert.is(r.code, 0, show(r));
  assert.is((await imagesNow(ctx)).backend, 'todo-backend:1.5.0');
  const apps = ctx.plane!.kc.makeApiClient(AppsV1Api);
  const deployments = (await apps.listNamespacedDeployment({ namespace: NS })).items;
  assert.is(new Set(deployments.map((d) => d.metadata!.name)).size, deployments.length);
  for (const d of deployments) {
    const pods = (await ctx.plane!.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS, labelSelector: `app.kubernetes.io/name=${d.metadata!.name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
    assert.is(pods.length, d.spec!.replicas, `${d.metadata!.name} has exactly its replicas`);
  }
  const records = await history(ctx);
  assert.is(records.at(-1)!.info.status, 'deployed');
  assert.is(records.filter((h) => h.info.status === 'deployed').length, 1, 'one deployed revision');
  const { recorded, managed } = await recordedAndManaged(ctx, records.at(-1)!.manifest);
  assert.equal(managed, recorded, 'the objects todo-deploy manages are exactly those of the revision');
});

test('status --watch redraws when the stack changes, and Ctrl-C ends it with exit 0', async (ctx) => {
  const watch = startScript('status', [...clusterArgs, '--output', 'json', '--watch'], ctx.env!, 120_000, { direct: true });
  // Complete lines only: the last one may still be arriving.
  const reports = () => watch.output().split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const until = async (n: number) => {
    await watch.until(() => reports().length >= n, 60_000);
    return reports();
  };
  assert.is((await until(1)).length, 1, watch.output());
  // A pod deleted: the ReplicaSet makes another, with another name; the report follows.
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=frontend' })).items[0]!;
  await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: NS });
  const after = await until(2);
  assert.ok(after.length >= 2, `a second report after the change:\n${watch.output()}`);
  const names = (r: any) => r.entities.filter((e: any) => e.entity === 'Kubernetes Pod').map((e: any) => e.name);
  assert.ok(names(after[0]).includes(pod.metadata!.name!));
  watch.signal('SIGINT');
  const r = await watch.done;
  assert.is(r.code, 0, show(r));
  assert.ok(reports().some((rep) => !names(rep).includes(pod.metadata!.name!)), 'a report without the deleted pod');
});

test('a failed first install removes what it created, in reverse stage order; the namespace stays with the failed revision', async (ctx) => {
  const ns = 'first';
  const dir = manifestsWith(ctx, 'first-install', annotateBackend(FAIL_AS_ANNOTATION, 'CrashLoopBackOff'));
  const r = await runScript('up', ['--cluster', 'current', '--skip-images', '--env', 'dev', '--namespace', ns, '--timeout', String(GATE_SECONDS), '--image-tag', '2.0.0', '--manifests', dir], ctx.env!);
  assert.is(r.code, 1, show(r));
  assert.match(r.output, /CrashLoopBackOff/);
  assert.match(r.output, /This was the first install, so the \d+ object\(s\) it created were removed in reverse order; namespace first stays with the release record \(revision 1, failed\)/);
  const kc = ctx.plane!.kc;
  assert.equal((await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata!.name), []);
  const managed = 'app.kubernetes.io/managed-by=todo-deploy';
  assert.equal((await kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: ns, labelSelector: managed })).items.length, 0);
  assert.equal((await kc.makeApiClient(CoreV1Api).listNamespacedServiceAccount({ namespace: ns, labelSelector: managed })).items.length, 0);
  await kc.makeApiClient(CoreV1Api).readNamespace({ name: ns });
  const records = await releaseStore(ctx.cluster!, ns, RELEASE_NAME).history();
  assert.equal(records.map((h) => [h.version, h.info.status]), [[1, 'failed']]);
  const theirs = await helm(ctx, ['history', RELEASE_NAME, '-o', 'json'], ns);
  assert.equal(JSON.parse(theirs.stdout).map((h: any) => [h.revision, h.status]), [[1, 'failed']]);
});

test('status --output json reports each entity in its diagram\'s words, as the cluster has it', async (ctx) => {
  const r = await runScript('status', [...clusterArgs, '--output', 'json'], ctx.env!);
  assert.is(r.code, 0, show(r));
  const report = JSON.parse(r.output);
  const last = (await history(ctx)).at(-1)!;
  assert.equal([report.release.revision, report.release.status], [last.version, 'deployed']);
  const rows = report.entities as { entity: string; kind: string; name: string; state: string }[];
  const states = (entity: string) => rows.filter((e) => e.entity === entity);
  assert.is(states('Deployment Configuration')[0]!.state, 'Running');
  const deployments = (await ctx.plane!.kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS })).items;
  assert.equal(states('Application Component').map((e) => e.name).sort(), deployments.map((d) => d.metadata!.name).sort());
  assert.ok(states('Application Component').every((e) => e.state === 'Healthy'));
  const pods = (await ctx.plane!.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: NS })).items.filter((p) => !p.metadata?.deletionTimestamp);
  assert.equal(states('Kubernetes Pod').map((e) => e.name).sort(), pods.map((p) => p.metadata!.name).sort());
  assert.ok(states('Kubernetes Pod').every((e) => e.state === 'Ready'));
  assert.equal(Object.fromEntries(states('Kubernetes Pod').map((e) => [e.name, e.state])), await clusterPodStates(ctx));
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const services = (await core.listNamespacedService({ namespace: NS })).items;
  assert.equal(states('Service').map((e) => e.name).sort(), services.map((s) => s.metadata!.name!).sort());
  assert.ok(states('Service').every((e) => e.state === 'Endpoints Available'));
  const ingresses = (await listObjects(ctx.cluster!, 'networking.k8s.io/v1', 'Ingress', NS))!.items;
  assert.equal(states('Ingress Route').map((e) => [e.name, e.state]), ingresses.map((i) => [i.metadata.name, i.status?.loadBalancer?.ingress?.length ? 'Address Assigned' : 'No Address']));
  assert.equal(states('Ingress Route').map((e) => e.state), ['Address Assigned']);
  const components = (await listObjects(ctx.cluster!, 'dapr.io/v1alpha1', 'Component', NS))!.items;
  assert.equal(states('Dapr Component').map((e) => e.name).sort(), components.map((c) => c.metadata.name).sort());
  assert.ok(components.length >= 2);
  assert.is(states('Helm Release')[0]!.state, 'deployed');
});

test('SIGTERM while down waits on a stage: exit 143, the revision marked uninstalling (interrupted), the lock released; the next down finishes', async (ctx) => {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const deployed = (await history(ctx)).at(-1)!;
  assert.is(deployed.info.status, 'deployed');
  // A finalizer nobody removes holds backend-svc: down deletes the Ingress and the Deployments,
  // then waits in its Services stage, where it is stopped.
  const hold = 'todo-deploy.dev/test-hold';
  const svc = await core.readNamespacedService({ name: 'backend-svc', namespace: NS });
  svc.metadata!.finalizers = [...(svc.metadata!.finalizers ?? []), hold];
  await core.replaceNamespacedService({ name: 'backend-svc', namespace: NS, body: svc });
  const run = startScript('down', [...clusterArgs, '--timeout', String(GATE_SECONDS)], ctx.env!, 300_000, { direct: true });
  try {
    await watchUntil(ctx.cluster!, { kind: KINDS.Service.ref, namespace: NS, name: 'backend-svc' }, (items) => ({ done: Boolean(items[0]?.metadata.deletionTimestamp) }), { deadline: Date.now() + 120_000, goal: 'down to delete backend-svc' });
    run.signal('SIGTERM');
    const r = await run.done;
    assert.is(r.code, 143, show(r));
    assert.match(r.output, /Stopped by SIGTERM\. It was at: .*Services/);
    assert.match(r.output, `Revision ${deployed.version} of todo-app is marked uninstalling (the stack is partly removed); the lock is released.`);
    assert.not.match(r.output, STACK_LINE);
    // Part-way: the Deployments are gone, the held Service is not, and the record says so.
    assert.equal((await ctx.plane!.kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: NS })).items.map((d) => d.metadata!.name), []);
    const last = (await history(ctx)).at(-1)!;
    assert.equal([last.version, last.info.status], [deployed.version, 'uninstalling']);
    assert.match(last.info.description!, /^Uninstall interrupted with the stack partly removed \(down again finishes it, up deploys again\): Stopped by SIGTERM/);
    const theirs = await helmJson(ctx, ['history', RELEASE_NAME]);
    assert.equal(theirs.at(-1).status, 'uninstalling', 'the real helm reads it too');
    const gone = await ctx.plane!.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LOCK_NAME, namespace: NS }).then(() => false, (e) => e.code === 404);
    assert.ok(gone, 'the lock was released');
  } finally {
    run.signal('SIGKILL');
    await run.done;
    const held = await core.readNamespacedService({ name: 'backend-svc', namespace: NS }).catch(() => undefined);
    if (held?.metadata?.finalizers?.includes(hold)) {
      held.metadata.finalizers = held.metadata.finalizers.filter((f) => f !== hold);
      await core.replaceNamespacedService({ name: 'backend-svc', namespace: NS, body: held });
    }
  }
  const again = await runScript('down', clusterArgs, ctx.env!);
  assert.is(again.code, 0, show(again));
  // The pruning test's unlabelled ServiceAccount keeps the namespace; everything of the stack goes, the records with it.
  assert.match(again.output, /✔ Removed \d+ object\(s\); namespace todo is kept \(it holds 1 object\(s\) todo-deploy did not create/);
  assert.equal((await core.listNamespacedService({ namespace: NS })).items.map((s) => s.metadata!.name), []);
  assert.equal(await history(ctx), [], 'the release records went with the stack');
});

test.run();
