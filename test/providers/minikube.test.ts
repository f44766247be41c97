// The minikube provider's real code against fake-minikube on PATH (minikube cannot run here)
// and a real control plane: fake-minikube's `start` writes the profile's context into the
// kubeconfig and `addons enable ingress` creates the ingress-nginx controller on the control
// plane, whose pod kwok makes Ready only after a delay, so the provider's wait is observable.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { minikubeProvider } from '../../lib/cluster/minikube.ts';
import { getIngressController } from '../../lib/cluster/ingress.ts';
import { deploymentVerdict } from '../../lib/kinds.ts';
import { DeployError } from '../../lib/errors.ts';
import { deleteAndWait, REFS, rejection, SECRET, startWorld, type World } from './support.ts';

const test = suite<{ world?: World }>('minikube provider (fake-minikube, real control plane)');

test.before(async (ctx) => {
  ctx.world = await startWorld(['minikube', 'docker']);
});

test.after(async (ctx) => {
  await ctx.world?.stop();
});

const refLines = Object.values(REFS).map((ref) => `image load ${ref} -p todo`);

test('cold start: status, start with the configured CPUs and memory, ingress addon, wait until available, image load, ip', async ({ world }) => {
  const w = world!;
  // The controller's pod turns Ready 3 s after it runs: a provider that did not wait would see it unavailable.
  w.bin.setState({ cluster: w.plane.kubeconfig, ingress: { readyDelay: 3 } });
  const ctx = w.ctx({ MINIKUBE_CPUS: '3', MINIKUBE_MEMORY: '6g' });

  const target = await minikubeProvider.ensureCluster(ctx);
  assert.is(target.context, 'todo');
  assert.match(target.summary, 'minikube profile todo: created and started');

  const cluster = w.cluster(target.context!);
  const summary = await minikubeProvider.ensureIngress(cluster, ctx);
  const controller = await getIngressController(cluster);
  assert.ok(controller, 'the addon created the controller Deployment');
  assert.ok(deploymentVerdict(controller).done, `ensureIngress returned before the controller was available: ${JSON.stringify(controller!.status)}`);
  assert.match(summary, 'enabled (minikube addon) and available');

  assert.equal(await minikubeProvider.loadImages(REFS, ctx), REFS);
  const address = await minikubeProvider.address(cluster, ctx, 'todo');
  assert.is(address.ingress, '192.168.49.2');
  assert.ok(address.serves);

  assert.equal(w.bin.lines('minikube'), [
    'status -p todo -o json',
    'start -p todo --driver=docker --cni=calico --cpus=3 --memory=6g',
    'addons enable ingress -p todo',
    ...refLines,
    'ip -p todo',
  ]);
  // The tools ran against the context minikube wrote, not some other cluster.
  assert.ok(w.bin.calls('minikube').slice(2).every((c) => c.context === 'todo'));
  assert.ok(existsSync(path.join(w.stateDir, 'created-clusters.json')), 'the created profile is recorded for down --purge');
});

test('already running, ingress available: only the status is asked, nothing is started or enabled', async ({ world }) => {
  const w = world!;
  w.bin.clearCalls();
  const ctx = w.ctx();
  const target = await minikubeProvider.ensureCluster(ctx);
  assert.match(target.summary, 'already running');
  const summary = await minikubeProvider.ensureIngress(w.cluster(target.context!), ctx);
  assert.match(summary, 'already available');
  assert.equal(w.bin.lines('minikube'), ['status -p todo -o json']);
});

test('running with a stale kubeconfig entry: update-context, no start', async ({ world }) => {
  const w = world!;
  w.bin.clearCalls();
  w.bin.setState({ ...w.bin.state(), minikubeKubeconfig: 'Misconfigured' });
  await minikubeProvider.ensureCluster(w.ctx());
  assert.equal(w.bin.lines('minikube'), ['status -p todo -o json', 'update-context -p todo']);
  const { minikubeKubeconfig: _, ...rest } = w.bin.state();
  w.bin.setState(rest);
});

test('an ingress controller that never becomes available fails the step by its deadline, naming it; no Ingress is applied', async ({ world }) => {
  const w = world!;
  await deleteAndWait(w, { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
  w.bin.clearCalls();
  w.bin.setState({ ...w.bin.state(), ingress: { neverReady: true } });
  const err = await rejection(() => minikubeProvider.ensureIngress(w.cluster('todo'), w.ctx({}, 4)));
  assert.instance(err, DeployError);
  assert.match(err.message, 'Timed out');
  assert.match(err.message, 'ingress-nginx/ingress-nginx-controller');
  assert.match(err.message, 'No Ingress was applied');
  assert.equal(w.bin.lines('minikube'), ['addons enable ingress -p todo']);
  await deleteAndWait(w, { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
  w.bin.setState({ ...w.bin.state(), ingress: { readyDelay: 0 } });
});

test('a failing start shows minikube\'s stderr with the secret redacted', async ({ world }) => {
  const w = world!;
  w.bin.setState({
    cluster: w.plane.kubeconfig,
    minikube: {},
    fail: { 'minikube start': { stderr: `X Exiting due to PROVIDER_DOCKER_NOT_RUNNING: docker said token=${SECRET}`, code: 69 } },
  });
  const err = await rejection(() => minikubeProvider.ensureCluster(w.ctx({ MINIKUBE_PROFILE: 'broken' })));
  assert.instance(err, DeployError);
  assert.match(err.message, 'Starting minikube profile broken failed');
  assert.match(err.message, 'exited 69');
  assert.match(err.message, 'PROVIDER_DOCKER_NOT_RUNNING');
  assert.match(err.message, 'token=[redacted]');
  assert.not.match(err.message, SECRET);
  assert.match(err.message, 'Fix:');
});

test('a failing image load names the image and shows minikube\'s message', async ({ world }) => {
  const w = world!;
  w.bin.setState({ ...w.bin.state(), minikube: { todo: 'Running' }, fail: { [`minikube image load ${REFS.backend}`]: { stderr: 'X Exiting due to GUEST_IMAGE_LOAD: image not found' } } });
  const err = await rejection(() => minikubeProvider.loadImages(REFS, w.ctx()));
  assert.instance(err, DeployError);
  assert.match(err.message, `Loading ${REFS.backend} into minikube profile todo failed`);
  assert.match(err.message, 'GUEST_IMAGE_LOAD: image not found');
  w.bin.setState({ ...w.bin.state(), fail: {} });
});

test('down --purge deletes the profile up created, and keeps one it did not create', async ({ world }) => {
  const w = world!;
  w.bin.clearCalls();
  w.bin.setState({ ...w.bin.state(), minikube: { todo: 'Running', mine: 'Running' }, fail: {} });
  assert.match(await minikubeProvider.purge(w.ctx()), 'minikube profile todo deleted');
  assert.match(await minikubeProvider.purge(w.ctx({ MINIKUBE_PROFILE: 'mine' })), 'kept: todo-deploy did not create it');
  assert.equal(w.bin.lines('minikube'), ['delete -p todo', 'status -p mine -o json']);
  assert.equal(Object.keys(w.bin.state().minikube), ['mine']);
  assert.not.match(readFileSync(path.join(w.stateDir, 'created-clusters.json'), 'utf8'), 'minikube:todo');
});

test.run();
