// Nothing the user owns is lost (issue 14), against a real API server:
//   - a namespace that exists before `up`, with a ConfigMap of the user's in it, keeps its
//     labels through `up` (nothing relabels it) and survives `down` with the ConfigMap;
//   - a user's namespace stricter than the stack's Pod Security level is refused (exit 2),
//     nothing applied;
//   - in a namespace `up` created, an object the user added keeps the namespace through
//     `down` (listed, with the fix), and `down --force` then removes it all.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { CoreV1Api, KubernetesObjectApi } from '@kubernetes/client-node';
import { applyDaprStandIn } from '../../lib/cluster/dapr-stand-in.ts';
import { startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { MANAGED_LABELS, MANAGED_SELECTOR } from '../../lib/manifests.ts';
import { runScript, show } from '../support/run-script.ts';

interface Ctx {
  plane?: ControlPlane;
  env?: NodeJS.ProcessEnv;
}

const test = suite<Ctx>('ownership: what the user owns survives up and down');
let setupError: unknown;

test.before(async (ctx) => {
  try {
    ctx.plane = await startControlPlane({ log: (l) => console.log(`  ${l}`) });
    await applyDaprStandIn(ctx.plane.kc);
    ctx.env = { ...process.env, KUBECONFIG: ctx.plane.kubeconfig, NO_COLOR: '1', CI: 'true', BETTER_AUTH_SECRET: 'ownership-test-auth-secret-0123456789abcdef' };
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
});

// A finalizer nobody serves: the object (and its namespace) stays until the test removes it.
const HOLD = 'todo-deploy.test/hold';
/** The output without colour codes (FORCE_COLOR in the environment wins over NO_COLOR). */
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');
const args = (ns: string, ...extra: string[]) => ['--cluster', 'current', '--skip-images', '--namespace', ns, '--timeout', '120', ...extra];
const core = (ctx: Ctx) => ctx.plane!.kc.makeApiClient(CoreV1Api);

async function userNamespace(ctx: Ctx, name: string, labels: Record<string, string>): Promise<void> {
  await core(ctx).createNamespace({ body: { metadata: { name, labels } } });
  await core(ctx).createNamespacedConfigMap({ namespace: name, body: { metadata: { name: 'user-config', labels: { team: 'mine' } }, data: { keep: 'me' } } });
}

async function namespaceOf(ctx: Ctx, name: string) {
  return core(ctx).readNamespace({ name }).catch(() => undefined);
}

test('a namespace the user made: up deploys into it without relabelling it; down removes only the stack and keeps it, with the ConfigMap', async (ctx) => {
  const ns = 'users-own';
  await userNamespace(ctx, ns, { team: 'mine' });
  const before = (await namespaceOf(ctx, ns))!.metadata!.labels;
  const up = await runScript('up', args(ns), ctx.env!, 300_000);
  assert.is(up.code, 0, show(up));
  assert.match(up.output, `namespace ${ns} exists and is not todo-deploy's: deploying into it without changing it`);
  assert.equal((await namespaceOf(ctx, ns))!.metadata!.labels, before, 'labels unchanged by up');
  const deployments = await ctx.plane!.kc.makeApiClient(KubernetesObjectApi).list('apps/v1', 'Deployment', ns, undefined, undefined, undefined, undefined, MANAGED_SELECTOR);
  assert.ok(deployments.items.length > 0, 'the stack was deployed into it');

  const down = await runScript('down', args(ns).filter((a) => a !== '--skip-images'), ctx.env!, 300_000);
  assert.is(down.code, 0, show(down));
  assert.match(down.output, `namespace ${ns} was not created by todo-deploy, so it is kept`);
  assert.not.match(down.output, `namespace ${ns} is gone`);
  const after = await namespaceOf(ctx, ns);
  assert.ok(after, 'the namespace is still there');
  assert.equal(after!.metadata!.labels, before, 'labels unchanged by down');
  assert.is((await core(ctx).readNamespacedConfigMap({ namespace: ns, name: 'user-config' })).data?.keep, 'me');
  const left = await ctx.plane!.kc.makeApiClient(KubernetesObjectApi).list('apps/v1', 'Deployment', ns, undefined, undefined, undefined, undefined, MANAGED_SELECTOR);
  assert.equal(left.items, [], 'the stack is gone');
});

test('a user\'s namespace that enforces a stricter Pod Security level is refused (exit 2), nothing applied', async (ctx) => {
  const ns = 'users-strict';
  await userNamespace(ctx, ns, { 'pod-security.kubernetes.io/enforce': 'restricted' });
  const up = await runScript('up', args(ns), ctx.env!, 120_000);
  assert.is(up.code, 2, show(up));
  assert.match(up.output, 'enforces Pod Security "restricted" where the stack needs "baseline"');
  assert.match(up.output, `kubectl label namespace ${ns} pod-security.kubernetes.io/enforce=baseline --overwrite`);
  const secrets = await core(ctx).listNamespacedSecret({ namespace: ns, labelSelector: MANAGED_SELECTOR });
  assert.equal(secrets.items, [], 'nothing of the stack was applied');
});

test('in a namespace up created, an object the user added keeps the namespace through down (listed, with the fix); --force removes it', async (ctx) => {
  const ns = 'made-by-up';
  const up = await runScript('up', args(ns), ctx.env!, 300_000);
  assert.is(up.code, 0, show(up));
  await core(ctx).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'added-later' }, data: { a: 'b' } } });
  const down = await runScript('down', args(ns).filter((a) => a !== '--skip-images'), ctx.env!, 300_000);
  assert.is(down.code, 0, show(down));
  assert.match(down.output, `namespace ${ns} kept: it holds 1 object(s) todo-deploy did not create (ConfigMap/${ns}/added-later)`);
  assert.match(down.output, '--force');
  assert.not.match(down.output, `namespace ${ns} is gone`);
  assert.ok(await namespaceOf(ctx, ns), 'kept');
  assert.ok(await core(ctx).readNamespacedConfigMap({ namespace: ns, name: 'added-later' }));

  const forced = await runScript('down', [...args(ns).filter((a) => a !== '--skip-images'), '--force'], ctx.env!, 300_000);
  assert.is(forced.code, 0, show(forced));
  assert.match(forced.output, `namespace ${ns} is gone`);
  // down waits until the namespace has finished terminating.
  assert.is(await namespaceOf(ctx, ns), undefined, 'the namespace is gone');
});

test('up while down is still deleting the namespace: the gate says it waits for that, and once it is gone up creates it anew', async (ctx) => {
  const ns = 'being-deleted';
  // todo-deploy's own namespace, held in Terminating by a ConfigMap whose finalizer only this test removes.
  await core(ctx).createNamespace({ body: { metadata: { name: ns, labels: { ...MANAGED_LABELS } } } });
  await core(ctx).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'held', finalizers: [HOLD] } } });
  await core(ctx).deleteNamespace({ name: ns });
  assert.ok((await namespaceOf(ctx, ns))?.metadata?.deletionTimestamp, 'the namespace is Terminating');

  // Short deadline first: up waits at the namespace gate and its failure says what it waited for.
  const waited = await runScript('up', [...args(ns).slice(0, -2), '--timeout', '5'], ctx.env!, 120_000); // --timeout 120 replaced
  assert.is(waited.code, 1, show(waited));
  assert.match(waited.output, `Compared with the cluster: namespace ${ns} is being deleted, so everything is applied anew`);
  assert.match(waited.output, `namespace ${ns} Terminating: waiting until an earlier down has finished deleting it`);
  assert.not.match(waited.output, 'not created yet');
  assert.not.match(waited.output, 'Applied by this run', 'nothing applied while it waited');

  // Then the finalizer goes while up waits: the namespace controller finishes, up goes on.
  let released: Promise<unknown> | undefined;
  const up = await runScript('up', args(ns), ctx.env!, 300_000, (soFar) => {
    if (!released && plain(soFar).includes(`❯ namespace ${ns} not being deleted`)) {
      released = core(ctx).patchNamespacedConfigMap({ namespace: ns, name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    }
  });
  await released;
  assert.ok(released, `up waited at the namespace gate:\n${show(up)}`);
  assert.is(up.code, 0, show(up));
  assert.match(plain(up.output), `✔ namespace ${ns} absent`);
  assert.not.match(up.output, 'not created yet');
  const now = await namespaceOf(ctx, ns);
  assert.is(now?.status?.phase, 'Active', 'created anew');
  assert.not.ok(now?.metadata?.deletionTimestamp);
  const deployments = await ctx.plane!.kc.makeApiClient(KubernetesObjectApi).list('apps/v1', 'Deployment', ns, undefined, undefined, undefined, undefined, MANAGED_SELECTOR);
  assert.ok(deployments.items.length > 0, 'the stack was deployed into the new namespace');
});

test.run();
