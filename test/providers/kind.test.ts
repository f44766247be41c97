// The kind provider's real code against fake-kind on PATH (kind cannot run here) and a real
// control plane. ingress-nginx's kind manifest cannot be downloaded here either: a local HTTP
// server serves test/fakes/ingress-nginx-kind-stand-in.yaml in its place, and the provider
// downloads, applies and waits for it as it would for the real one.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { kindProvider } from '../../lib/cluster/kind.ts';
import { getIngressController } from '../../lib/cluster/ingress.ts';
import { listObjects } from '../../lib/kube/apply.ts';
import { deploymentVerdict } from '../../lib/kinds.ts';
import { DeployError, UsageError } from '../../lib/errors.ts';
import { applyObject } from '../../lib/kube/apply.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { describeEnforcement } from '../../lib/cluster/policy-enforcement.ts';
import { probeEnforcement } from '../../lib/cluster/policy-probe.ts';
import { deleteAndWait, REFS, rejection, SECRET, startWorld, type World } from './support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const MANIFEST = readFileSync(path.resolve(here, '../fakes/ingress-nginx-kind-stand-in.yaml'), 'utf8');

interface Ctx {
  world?: World;
  server?: Server;
  url?: string;
  requests: string[];
}

const test = suite<Ctx>('kind provider (fake-kind, real control plane)', { requests: [] });

test.before(async (ctx) => {
  ctx.world = await startWorld(['kind', 'docker']);
  ctx.server = createServer((req, res) => {
    ctx.requests.push(req.url ?? '');
    if (req.url === '/deploy.yaml') {
      res.writeHead(200, { 'content-type': 'application/yaml' });
      res.end(MANIFEST);
    } else {
      res.writeHead(404);
      res.end('404: Not Found');
    }
  });
  await new Promise<void>((resolve) => ctx.server!.listen(0, '127.0.0.1', resolve));
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}/deploy.yaml`;
});

test.after(async (ctx) => {
  await new Promise((resolve) => ctx.server?.close(resolve));
  await ctx.world?.stop();
});

test('cold start: cluster created from a config with the ingress-ready label and ports 80/443, ingress-nginx applied and waited for, images loaded', async (ctx) => {
  const w = ctx.world!;
  w.bin.setState({ cluster: w.plane.kubeconfig });
  const pctx = w.ctx({ INGRESS_NGINX_KIND_MANIFEST: ctx.url! });

  const target = await kindProvider.ensureCluster(pctx);
  assert.is(target.context, 'kind-todo');
  assert.match(target.summary, 'kind cluster todo: created');
  const [list, version, create] = w.bin.calls('kind');
  assert.equal(list!.argv, ['get', 'clusters']);
  assert.equal(version!.argv, ['version'], 'the kind release is checked before a cluster is created');
  const configPath = create!.argv[create!.argv.indexOf('--config') + 1]!;
  assert.equal(create!.argv, ['create', 'cluster', '--name', 'todo', '--config', configPath, '--wait', '120s']);
  assert.not.ok(existsSync(configPath), 'the temporary kind config is removed');
  const config = parse(create!.config!);
  assert.is(config.kind, 'Cluster');
  assert.equal(config.networking, { disableNetworkPolicies: false }, 'the cluster enforces NetworkPolicies');
  assert.is(config.nodes.length, 1);
  const node = config.nodes[0];
  assert.is(node.role, 'control-plane');
  assert.equal(node.extraPortMappings.map((m: { containerPort: number; hostPort: number }) => [m.containerPort, m.hostPort]), [[80, 80], [443, 443]]);
  assert.is(parse(node.kubeadmConfigPatches[0]).nodeRegistration.kubeletExtraArgs['node-labels'], 'ingress-ready=true');

  const cluster = w.cluster(target.context!);
  const summary = await kindProvider.ensureIngress(cluster, pctx);
  assert.equal(ctx.requests, ['/deploy.yaml']);
  const controller = await getIngressController(cluster);
  assert.ok(controller && deploymentVerdict(controller).done, 'ensureIngress returned before the controller was available');
  const jobs = await listObjects(cluster, 'batch/v1', 'Job', 'ingress-nginx');
  assert.is(jobs!.items[0]!.status?.succeeded, 1, 'the admission Job had completed');
  assert.match(summary, 'applied (4 objects) and available');

  assert.equal(await kindProvider.loadImages(REFS, pctx), REFS);
  assert.equal((await kindProvider.address(cluster, pctx, 'todo')).ingress, '127.0.0.1');
  assert.equal(w.bin.lines('kind').slice(3), [`load docker-image --name todo ${Object.values(REFS).join(' ')}`]);
  assert.ok(w.bin.calls('kind').slice(3).every((c) => c.context === 'kind-todo'));
});

test('existing cluster with its context: nothing created, the manifest not downloaded again', async (ctx) => {
  const w = ctx.world!;
  w.bin.clearCalls();
  const pctx = w.ctx({ INGRESS_NGINX_KIND_MANIFEST: ctx.url! });
  const target = await kindProvider.ensureCluster(pctx);
  assert.match(target.summary, 'already exists');
  assert.match(await kindProvider.ensureIngress(w.cluster(target.context!), pctx), 'already available');
  assert.equal(w.bin.lines('kind'), ['get clusters']);
  assert.is(ctx.requests.length, 1);
});

test('existing cluster whose context went missing: kind export kubeconfig', async (ctx) => {
  const w = ctx.world!;
  const cfg = parse(readFileSync(w.kubeconfig, 'utf8'));
  cfg.contexts = cfg.contexts.filter((c: { name: string }) => c.name !== 'kind-todo');
  cfg['current-context'] = '';
  writeFileSync(w.kubeconfig, stringify(cfg));
  w.bin.clearCalls();
  await kindProvider.ensureCluster(w.ctx());
  assert.equal(w.bin.lines('kind'), ['get clusters', 'export kubeconfig --name todo']);
  assert.ok(parse(readFileSync(w.kubeconfig, 'utf8')).contexts.some((c: { name: string }) => c.name === 'kind-todo'));
});

test('a manifest that cannot be downloaded stops the step with the URL and the fix', async (ctx) => {
  const w = ctx.world!;
  await deleteAndWait(w, { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespace: 'ingress-nginx', name: 'ingress-nginx-controller' });
  const missing = ctx.url!.replace('deploy.yaml', 'missing.yaml');
  const err = await rejection(() => kindProvider.ensureIngress(w.cluster('kind-todo'), w.ctx({ INGRESS_NGINX_KIND_MANIFEST: missing })));
  assert.instance(err, DeployError);
  assert.match(err.message, `Downloading the ingress-nginx manifest ${missing} answered HTTP 404`);
  assert.match(err.message, 'Fix: check INGRESS_NGINX_KIND_MANIFEST');
});

test('a failing create shows kind\'s stderr with the secret redacted', async (ctx) => {
  const w = ctx.world!;
  w.bin.setState({ ...w.bin.state(), fail: { 'kind create cluster': { stderr: `ERROR: failed to create cluster: port 80 is in use (registry auth ${SECRET})` } } });
  const err = await rejection(() => kindProvider.ensureCluster(w.ctx({ KIND_CLUSTER: 'other' })));
  assert.instance(err, DeployError);
  assert.match(err.message, 'Creating kind cluster other failed');
  assert.match(err.message, 'port 80 is in use');
  assert.match(err.message, '[redacted]');
  assert.not.match(err.message, SECRET);
  assert.match(err.message, 'ports 80 and 443 of this machine are free');
  w.bin.setState({ ...w.bin.state(), fail: {} });
});

test('a kind older than v0.24.0 (no NetworkPolicy enforcement) is refused before anything is created', async (ctx) => {
  const w = ctx.world!;
  const before = w.bin.state();
  w.bin.setState({ ...before, kindVersion: 'v0.23.0' });
  w.bin.clearCalls();
  const err = await rejection(() => kindProvider.ensureCluster(w.ctx({ KIND_CLUSTER: 'old' })));
  assert.instance(err, UsageError);
  assert.match(err.message, 'kind 0.23.0 creates clusters that do not enforce NetworkPolicies');
  assert.match(err.message, 'Redis has no password');
  assert.match(err.message, 'Fix: install kind');
  assert.equal(w.bin.lines('kind'), ['get clusters', 'version'], 'nothing was created');
  w.bin.setState({ ...w.bin.state(), kindVersion: undefined });
});

test('whether a kind cluster enforces: the kube-network-policies DaemonSet kind >= v0.24 runs beside kindnet; kindnet alone does not', async (ctx) => {
  const cluster = clusterFromKubeConfig(ctx.world!.plane.kc);
  const ds = (name: string) => ({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace: 'kube-system' }, spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `example/${name}:1` }] } } } });
  await applyObject(cluster, ds('kindnet'));
  const kindnetAlone = await probeEnforcement(cluster);
  assert.is(kindnetAlone.enforces, false);
  assert.match(describeEnforcement(kindnetAlone), /NOT enforced: the network plugin is kindnet without kube-network-policies .*redis-svc:6379 \(Redis has no password/);
  await applyObject(cluster, ds('kube-network-policies'));
  const enforced = await probeEnforcement(cluster);
  assert.equal(enforced, { enforces: true, by: 'kube-network-policies (kind) (DaemonSet kube-system/kube-network-policies)' });
  for (const name of ['kindnet', 'kube-network-policies']) await deleteAndWait(ctx.world!, { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets', namespace: 'kube-system', name });
});

test('down --purge deletes the cluster up created and keeps one it did not', async (ctx) => {
  const w = ctx.world!;
  w.bin.setState({ ...w.bin.state(), kind: ['todo', 'theirs'] });
  w.bin.clearCalls();
  assert.match(await kindProvider.purge(w.ctx()), 'kind cluster todo deleted');
  assert.match(await kindProvider.purge(w.ctx({ KIND_CLUSTER: 'theirs' })), 'kind cluster theirs kept');
  assert.equal(w.bin.lines('kind'), ['get clusters', 'delete cluster --name todo', 'get clusters']);
  assert.equal(w.bin.state().kind, ['theirs']);
});

test.run();
