// Release records and the lock against a real API server, and read back by the real helm CLI
// (built from the Go module proxy at the version bench/ pins): what todo-deploy records, a
// user's `helm list`, `helm history`, `helm status` and `helm get manifest|values` must show.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { ensureTool } from '../../bench/tools.ts';
import { startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { clusterFromKubeConfig, type Cluster } from '../../lib/kube/client.ts';
import { CHART_VERSION, helmChartRecord, generateChart } from '../../lib/chart.ts';
import { readChartSources } from '../../lib/chart-files.ts';
import { REPO_ROOT } from '../../lib/cli.ts';
import { releaseStore } from '../../lib/release/store.ts';
import { finished, pendingRollback, pendingUpgrade, releaseManifest, superseded, RELEASE_NAME } from '../../lib/release/record.ts';
import { acquireLock, LOCK_NAME } from '../../lib/release/lock.ts';
import type { HelmRelease } from '../../lib/release/helm-codec.ts';

const NS = 'rel';

interface Ctx {
  plane?: ControlPlane;
  cluster?: Cluster;
  helm?: string;
}

const test = suite<Ctx>('release records and lock on a real control plane, read by the real helm');

let setupError: unknown;
test.before(async (ctx) => {
  try {
    ctx.helm = (await ensureTool('helm', { log: (l) => console.log(`  ${l}`) })).path;
    ctx.plane = await startControlPlane({ installCrds: false, ingressStandIn: false, log: (l) => console.log(`  ${l}`) });
    ctx.cluster = clusterFromKubeConfig(ctx.plane.kc);
    await ctx.plane.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
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

function helm(ctx: Ctx, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ctx.helm!, args, { env: { ...process.env, KUBECONFIG: ctx.plane!.kubeconfig, HELM_CACHE_HOME: '/tmp/todo-deploy-helm-cache', HELM_CONFIG_HOME: '/tmp/todo-deploy-helm-config' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function helmJson(ctx: Ctx, args: string[]): Promise<any> {
  const r = await helm(ctx, [...args, '-n', NS, '-o', 'json']);
  assert.is(r.code, 0, `helm ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const chart = () => helmChartRecord(generateChart(readChartSources(REPO_ROOT)));
const manifestWithTag = (tag: string) =>
  releaseManifest([
    { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, file: 'manifests/00-namespace.yaml', line: 1 },
    { object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'backend', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'backend', image: `todo-backend:${tag}` }] } } } }, file: 'manifests/80-deployments.yaml', line: 1 },
    { object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'todo-secrets', namespace: NS }, data: { 'openai-api-key': Buffer.from('sk-never-in-a-record').toString('base64') } }, file: '(generated from .env)', line: 1 },
  ]);

/** An up as the pipeline records it: pending, then deployed (superseding the last) or failed. */
async function recordUp(ctx: Ctx, tag: string, ok: boolean): Promise<HelmRelease> {
  const store = releaseStore(ctx.cluster!, NS, RELEASE_NAME);
  const history = await store.history();
  const version = (history[history.length - 1]?.version ?? 0) + 1;
  const pending = pendingUpgrade({ namespace: NS, version, chart: chart(), config: { backend: { image: { tag } } }, manifest: manifestWithTag(tag), now: new Date() }, history);
  await store.create(pending);
  const done = finished(pending, ok ? { ok: true } : { ok: false, reason: 'Deployment rel/backend: pod backend-x container backend CrashLoopBackOff' }, new Date());
  await store.update(done);
  if (ok) for (const r of history.filter((h) => h.info.status === 'deployed')) await store.update(superseded(r));
  return done;
}

test('three ups, a failed one and a rollback: helm list, history, status and get manifest|values read them', async (ctx) => {
  await recordUp(ctx, '1.0.0', true);
  await recordUp(ctx, '1.0.1', true);
  await recordUp(ctx, '1.0.2', false);
  const store = releaseStore(ctx.cluster!, NS, RELEASE_NAME);
  const history = await store.history();
  const rollback = pendingRollback(history[0]!, 4, new Date(), history);
  await store.create(rollback);
  await store.update(finished(rollback, { ok: true }, new Date()));
  await store.update(superseded(history[1]!));

  const ours = (await store.history()).map((r) => [r.version, r.info.status, r.info.description]);
  assert.equal(ours, [
    [1, 'superseded', 'Install complete'],
    [2, 'superseded', 'Upgrade complete'],
    [3, 'failed', 'Upgrade "todo-app" failed: Deployment rel/backend: pod backend-x container backend CrashLoopBackOff'],
    [4, 'deployed', 'Rollback to 1'],
  ]);

  const hist = await helmJson(ctx, ['history', RELEASE_NAME]);
  assert.equal(hist.map((h: any) => [h.revision, h.status, h.description, h.chart, h.app_version]), ours.map(([v, s, d]) => [v, s, d, `todo-app-${CHART_VERSION}`, '0.1.0']));
  const list = await helmJson(ctx, ['list']);
  assert.equal(list.map((l: any) => [l.name, l.revision, l.status, l.chart]), [[RELEASE_NAME, '4', 'deployed', `todo-app-${CHART_VERSION}`]]);
  const status = await helmJson(ctx, ['status', RELEASE_NAME]);
  assert.equal([status.version, status.info.status, status.namespace], [4, 'deployed', NS]);

  const manifest = await helm(ctx, ['get', 'manifest', RELEASE_NAME, '-n', NS]);
  assert.is(manifest.code, 0, manifest.stderr);
  // helm prints the manifest and a newline (fmt.Fprintln).
  assert.is(manifest.stdout, `${manifestWithTag('1.0.0')}\n`, 'helm prints the recorded manifest');
  assert.ok(manifest.stdout.includes('todo-backend:1.0.0'));
  assert.not.ok(manifest.stdout.includes('sk-never-in-a-record') || manifest.stdout.includes(Buffer.from('sk-never-in-a-record').toString('base64')), 'no secret value in the record');
  const old = await helm(ctx, ['get', 'manifest', RELEASE_NAME, '-n', NS, '--revision', '2']);
  assert.ok(old.stdout.includes('todo-backend:1.0.1'));
  const values = await helmJson(ctx, ['get', 'values', RELEASE_NAME]);
  assert.equal(values, { backend: { image: { tag: '1.0.0' } } });
});

test('history is kept to its maximum: the oldest go first, the deployed one stays', async (ctx) => {
  const store = releaseStore(ctx.cluster!, NS, RELEASE_NAME);
  const pruned = await store.prune(2);
  assert.equal(pruned, [1, 2]);
  assert.equal((await store.history()).map((r) => r.version), [3, 4]);
  const hist = await helmJson(ctx, ['history', RELEASE_NAME]);
  assert.equal(hist.map((h: any) => h.revision), [3, 4]);
});

test('the lock: a second run is refused at once naming the holder and since when; released, it can be taken', async (ctx) => {
  const first = await acquireLock(ctx.cluster!, { namespace: NS, command: 'npm run up', durationSeconds: 30 });
  const refused = await acquireLock(ctx.cluster!, { namespace: NS, command: 'npm run up', durationSeconds: 30 }).then(
    () => undefined,
    (err: Error) => err,
  );
  assert.ok(refused, 'the second acquire must fail');
  assert.match(refused!.message, new RegExp(`holds the lock on namespace ${NS}: .*pid ${process.pid} \\(npm run up\\), since \\d{4}-\\d\\d-\\d\\dT`));
  const lease = await ctx.plane!.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LOCK_NAME, namespace: NS });
  assert.is(lease.spec?.holderIdentity, first.holder);
  await first.release();
  const gone = await ctx.plane!.kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LOCK_NAME, namespace: NS }).then(() => false, (e) => e.code === 404);
  assert.ok(gone, 'released: the Lease is deleted');
  const again = await acquireLock(ctx.cluster!, { namespace: NS, command: 'npm run down', durationSeconds: 30 });
  assert.is(again.tookOverFrom, undefined);
  await again.release();
});

test('a lease whose holder stopped renewing is taken over once it expires, and the old holder learns it lost it', async (ctx) => {
  const api = ctx.plane!.kc.makeApiClient(CoordinationV1Api);
  // A holder that died: its lease was renewed 3 s ago and lasts 2 s.
  const stale = new Date(Date.now() - 3000);
  const micro = stale.toISOString().replace('Z', '000Z');
  await api.createNamespacedLease({ namespace: NS, body: { metadata: { name: LOCK_NAME, namespace: NS }, spec: { holderIdentity: 'ghost@elsewhere pid 1 (npm run up)', leaseDurationSeconds: 2, acquireTime: micro as any, renewTime: micro as any, leaseTransitions: 0 } } });
  const taken = await acquireLock(ctx.cluster!, { namespace: NS, command: 'npm run up', durationSeconds: 3 });
  assert.is(taken.tookOverFrom, 'ghost@elsewhere pid 1 (npm run up)');
  const lease = await api.readNamespacedLease({ name: LOCK_NAME, namespace: NS });
  assert.is(lease.spec?.leaseTransitions, 1);
  // Someone else takes it by force: our renewal notices and aborts the run's signal.
  await api.replaceNamespacedLease({ name: LOCK_NAME, namespace: NS, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder' } } });
  await new Promise<void>((resolve) => (taken.lost.aborted ? resolve() : taken.lost.addEventListener('abort', () => resolve())));
  assert.match(String((taken.lost.reason as Error).message), /lost its lock on namespace rel: intruder holds it now/);
  await taken.release();
  const still = await api.readNamespacedLease({ name: LOCK_NAME, namespace: NS });
  assert.is(still.spec?.holderIdentity, 'intruder', 'release never deletes a lease someone else holds');
});

test('a lock on a namespace that does not exist yet creates it through the callback', async (ctx) => {
  let created = false;
  const lock = await acquireLock(ctx.cluster!, {
    namespace: 'fresh',
    command: 'npm run up',
    durationSeconds: 30,
    ensureNamespace: async () => {
      created = true;
      await ctx.plane!.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'fresh' } } });
    },
  });
  assert.ok(created);
  await lock.release();
});

test.run();
