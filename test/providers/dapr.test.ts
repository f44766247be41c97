// The Dapr step's real code against fake-helm and fake-dapr on PATH and a real control plane
// started without the Dapr CRDs: the install choice (helm, else the Dapr CLI, else a clear
// error), the exact commands, the wait until the five control-plane workloads are ready (the
// fakes create them; kwok runs their pods), and the provider that brings its own stand-in.
// The same cluster has no ingress controller at first: the current provider's check.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync } from 'node:fs';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { ensureDapr, probeDapr, notReady, DAPR_WORKLOADS } from '../../lib/cluster/dapr.ts';
import { currentProvider } from '../../lib/cluster/current.ts';
import { sandboxProvider } from '../../lib/cluster/sandbox.ts';
import { STAND_IN_LABEL } from '../../lib/cluster/dapr-stand-in.ts';
import { DAPR_VERSION } from '../../lib/cluster/versions.ts';
import { DeployError, UsageError } from '../../lib/errors.ts';
import { deleteAndWait, rejection, SECRET, startWorld, type World } from './support.ts';
import { isAlive } from '../../lib/controlplane/processes.ts';

const test = suite<{ world?: World }>('Dapr control plane step (fake-helm, fake-dapr, real control plane)');

test.before(async (ctx) => {
  ctx.world = await startWorld(['helm', 'dapr'], { installCrds: false });
  copyFileSync(ctx.world.plane.kubeconfig, ctx.world.kubeconfig);
  ctx.world.bin.setState({ cluster: ctx.world.plane.kubeconfig });
});

test.after(async (ctx) => {
  await ctx.world?.stop();
});

test('current provider: no ingress controller is reported with the fix; an IngressClass nginx is accepted', async ({ world }) => {
  const w = world!;
  const cluster = w.cluster();
  const err = await rejection(() => currentProvider.ensureIngress(cluster, w.ctx()));
  assert.instance(err, DeployError);
  assert.match(err.message, `The cluster of context "${cluster.context}" has no ingress controller for class nginx`);
  assert.match(err.message, 'nothing was applied');
  assert.match(err.message, 'Fix: install ingress-nginx: `helm upgrade --install ingress-nginx ingress-nginx');
  await KubernetesObjectApi.makeApiClient(w.plane.kc).create({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'example.com/other-nginx' } });
  assert.is(await currentProvider.ensureIngress(cluster, w.ctx()), 'Ingress controller: IngressClass nginx (controller example.com/other-nginx)');
  assert.equal(w.bin.calls(), []);
});

const uninstall = (w: World) => deleteAndWait(w, { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', name: 'dapr-system' });

test('neither helm nor the Dapr CLI on PATH: a clear error naming what is missing and what to install; nothing runs', async ({ world }) => {
  const w = world!;
  w.bin.remove('helm');
  w.bin.remove('dapr');
  const cluster = w.cluster();
  const err = await rejection(() => ensureDapr(cluster, currentProvider, w.ctx()));
  assert.instance(err, UsageError);
  assert.match(err.message, 'The Dapr control plane is not installed');
  assert.match(err.message, 'missing: CRDs components.dapr.io, configurations.dapr.io; namespace dapr-system');
  assert.match(err.message, 'neither helm nor the Dapr CLI is on PATH');
  assert.match(err.message, 'install Helm 3');
  assert.match(err.message, 'install the Dapr CLI');
  assert.match(err.message, `helm upgrade --install dapr dapr/dapr --repo https://dapr.github.io/helm-charts/ --version ${DAPR_VERSION}`);
  assert.equal(w.bin.calls(), []);
  w.bin.add('helm');
  w.bin.add('dapr');
});

test('helm present (and the Dapr CLI too): helm installs the pinned version into our context, then every workload is ready', async ({ world }) => {
  const w = world!;
  const cluster = w.cluster();
  const summary = await ensureDapr(cluster, currentProvider, w.ctx());
  assert.equal(w.bin.lines('helm'), [
    'repo add dapr https://dapr.github.io/helm-charts/ --force-update',
    'repo update dapr',
    `upgrade --install dapr dapr/dapr --version ${DAPR_VERSION} --namespace dapr-system --create-namespace --wait --timeout 10m --kube-context ${cluster.context}`,
  ]);
  assert.equal(w.bin.lines('dapr'), []);
  assert.match(summary, `Dapr ${DAPR_VERSION} installed with helm`);
  const probe = await probeDapr(cluster);
  assert.equal(notReady(probe), [], 'ensureDapr returned before the control plane was ready');
  assert.is(probe.workloads.length, DAPR_WORKLOADS.length);
});

test('already installed and ready: nothing is installed', async ({ world }) => {
  const w = world!;
  w.bin.clearCalls();
  assert.match(await ensureDapr(w.cluster(), currentProvider, w.ctx()), 'Dapr already installed');
  assert.equal(w.bin.calls(), []);
});

test('no helm: the Dapr CLI installs, given a private kubeconfig whose current context is ours, removed afterwards', async ({ world }) => {
  const w = world!;
  await uninstall(w);
  w.bin.clearCalls();
  w.bin.remove('helm');
  const cluster = w.cluster();
  const summary = await ensureDapr(cluster, currentProvider, w.ctx({ DAPR_VERSION: '1.16.5' }));
  const calls = w.bin.calls();
  assert.equal(calls.map((c) => `${c.tool} ${c.argv.join(' ')}`), ['dapr init -k --runtime-version 1.16.5 --wait --timeout 600']);
  assert.is(calls[0]!.context, cluster.context);
  assert.is.not(calls[0]!.KUBECONFIG, w.kubeconfig);
  assert.not.ok(existsSync(calls[0]!.KUBECONFIG!), 'the private kubeconfig is removed');
  assert.match(summary, 'Dapr 1.16.5 installed with the Dapr CLI');
  assert.equal(notReady(await probeDapr(cluster)), []);
  w.bin.add('helm');
});

test('an install that lacks a workload (Dapr before 1.14 had no scheduler) is refused with the upgrade command', async ({ world }) => {
  const w = world!;
  await deleteAndWait(w, { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets', namespace: 'dapr-system', name: 'dapr-scheduler-server' });
  const err = await rejection(() => ensureDapr(w.cluster(), currentProvider, w.ctx()));
  assert.instance(err, DeployError);
  assert.match(err.message, 'lacks StatefulSet dapr-scheduler-server');
  assert.match(err.message, `dapr upgrade -k --runtime-version ${DAPR_VERSION}`);
});

test('a failing helm install shows helm\'s stderr, the secret redacted', async ({ world }) => {
  const w = world!;
  await uninstall(w);
  w.bin.setState({ ...w.bin.state(), fail: { 'helm upgrade': { stderr: `Error: INSTALLATION FAILED: context deadline exceeded (auth ${SECRET})` } } });
  const err = await rejection(() => ensureDapr(w.cluster(), currentProvider, w.ctx()));
  assert.instance(err, DeployError);
  assert.match(err.message, `Installing Dapr ${DAPR_VERSION} with helm failed`);
  assert.match(err.message, 'INSTALLATION FAILED: context deadline exceeded');
  assert.match(err.message, '[redacted]');
  assert.not.match(err.message, SECRET);
  w.bin.setState({ ...w.bin.state(), fail: {} });
});

test("a Dapr pod crash-looping while helm --wait waits: helm is stopped, and the step fails at once naming pod, container and reason, not at helm's timeout", async ({ world }) => {
  const w = world!;
  await uninstall(w);
  w.bin.clearCalls();
  // helm applies the control plane, whose operator then crash-loops (kwok), and waits forever.
  w.bin.setState({ ...w.bin.state(), daprFailAs: { 'dapr-operator': 'CrashLoopBackOff' }, hang: ['helm upgrade'] });
  const err = await rejection(() => ensureDapr(w.cluster(), currentProvider, w.ctx()));
  assert.instance(err, DeployError);
  assert.match(err.message, /^The Dapr control plane failed: pod dapr-system\/dapr-operator-[a-z0-9]+-[a-z0-9]+, container main: CrashLoopBackOff \(.*last exit 1, Error\)\)\./);
  assert.match(err.message, 'stopped its install and its wait now instead of at their deadline');
  assert.match(err.message, 'It wrote no log lines.'); // kwok's containers write none
  assert.match(err.message, /-n dapr-system logs dapr-operator-\S+ -c main --previous/);
  const [upgrade] = w.bin.calls('helm').filter((c) => c.argv[0] === 'upgrade');
  assert.ok(upgrade?.pid, 'helm upgrade ran and recorded its pid');
  assert.not.ok(isAlive(upgrade!.pid!), `helm (pid ${upgrade!.pid}) was stopped, not left waiting`);
  w.bin.setState({ ...w.bin.state(), daprFailAs: {}, hang: [] });
  await uninstall(w);
});

test('the sandbox provides a labelled stand-in instead of installing, even with helm on PATH, and it is waited for', async ({ world }) => {
  const w = world!;
  w.bin.clearCalls();
  const cluster = w.cluster();
  // The CRDs stay from the earlier installs; dapr-system is missing.
  const summary = await ensureDapr(cluster, sandboxProvider, w.ctx());
  assert.match(summary, 'stand-in');
  assert.equal(w.bin.calls(), []);
  const probe = await probeDapr(cluster);
  assert.equal(notReady(probe), []);
  assert.ok(probe.workloads.every((x) => x.object?.metadata.labels?.[STAND_IN_LABEL] === 'true'));
});

test.run();
