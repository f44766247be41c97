// NetworkPolicies proven by traffic on the real node. `up --cluster sandbox` with
// SANDBOX_NETWORK_POLICIES=enforce runs kube-router's firewall beside kube-proxy; then, from
// inside real pods (Node, which every image carries, through `kubectl exec`), every path of
// lib/policy/paths.ts is tried: each allowed one must connect, each forbidden one be refused or
// time out. The same matrix again with enforcement off (kube-router stopped, its rules and ipsets
// removed, in the same node) shows the forbidden paths open, so the first run could have failed.
// `down --purge` then leaves the host as it was, kube-router's ipsets and processes included.
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api, type V1Pod } from '@kubernetes/client-node';
import { isAlive } from '../../lib/controlplane/processes.ts';
import { enforcesPolicies, readState, stopPolicyEnforcement } from '../../lib/controlplane/state.ts';
import { CLUSTER_DNS, HOST_ADDRESS } from '../../lib/controlplane/node/layout.ts';
import { filterRules, policyState } from '../../lib/controlplane/node/policy-controller.ts';
import { unfiltered } from '../../lib/controlplane/node/policy-sync.ts';
import { binaryPath, readVersions } from '../../lib/controlplane/versions.ts';
import { clusterFromKubeConfig } from '../../lib/kube/client.ts';
import { watchUntil } from '../../lib/kube/watch.ts';
import { ALLOWED_PATHS, COMPONENT_LABEL, FORBIDDEN_PATHS, INGRESS_CONTROLLER_PODS } from '../../lib/policy/paths.ts';
import { runScript, show } from '../support/run-script.ts';
import { suite } from '../support/suite.ts';
import { hostDifferences, hostSnapshot } from './support/host.ts';
import { closeSandboxSuite, openSandboxSuite, type SandboxSuiteCtx } from './support/sandbox-run.ts';
import { curlVia, MCP_HEADERS, rpc } from './support/smoke.ts';
import { attempts, formatMatrix, runAttempts, type SourcePod, type World } from './support/traffic.ts';

const NS = 'todo';
const ELSEWHERE = 'netpol-elsewhere';
const DAPR_NS = 'dapr-system';
const DAPR_PORTS = [6500, 50001, 50005, 50006];

interface Ctx extends SandboxSuiteCtx {
  world?: World;
  listeners: Server[];
}

const test = suite<Ctx>('real node: NetworkPolicies enforced by kube-router, proven by traffic', { listeners: [] });

test.before((ctx) => {
  // No DATABASE_URL: the in-cluster PostgreSQL is deployed.
  openSandboxSuite(ctx, 'netpol', { SANDBOX_PODS: 'real', SANDBOX_NETWORK_POLICIES: 'enforce' });
});

test.after(async (ctx) => {
  for (const s of ctx.listeners) s.close();
  await closeSandboxSuite(ctx);
});

const core = (ctx: Ctx) => ctx.kc!.makeApiClient(CoreV1Api);
const kubectl = () => binaryPath(readVersions(), 'kubectl');

test('up --cluster sandbox with SANDBOX_NETWORK_POLICIES=enforce: kube-router runs on the real node, up says the policies are enforced', async (ctx) => {
  const r = await runScript('up', ['--cluster', 'sandbox'], ctx.env!, 1_800_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /NetworkPolicies are enforced by kube-router v\d+\.\d+\.\d+ \(its firewall\) on the sandbox's real node/);
  assert.not.match(r.output, /warning: NetworkPolicies/);
  // The URL is given once kube-router has written the new pods' firewall, not before.
  assert.match(r.output, /kube-router (wrote the NetworkPolicy rules of \d+ pod\(s\) [\d.]+ s after|had written the NetworkPolicy rules of every pod)/);
  console.log(`  up with enforcement: ${(r.ms / 1000).toFixed(1)} s`);
  ctx.state = readState(ctx.stateFile!);
  assert.ok(ctx.state && enforcesPolicies(ctx.state), 'the state records kube-router, alive');
  assert.ok(ctx.state!.processes.some((p) => p.name === 'kube-router' && isAlive(p.pid)));
  ctx.kc = new KubeConfig();
  ctx.kc.loadFromFile(ctx.state!.kubeconfig);
});

function podSpec(name: string, namespace: string, labels: Record<string, string>, image: string, script: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'probe', image, imagePullPolicy: 'Never', command: ['node', '-e', script], resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } } }],
    },
  };
}

async function running(ctx: Ctx, namespace: string, name: string): Promise<V1Pod> {
  const found = await watchUntil(clusterFromKubeConfig(ctx.kc!), { kind: { apiVersion: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }, namespace, name }, (items) => ({ done: items[0]?.status?.phase === 'Running' && !!items[0]?.status?.podIP }), {
    deadline: Date.now() + 120_000,
    goal: `pod ${namespace}/${name} to run`,
  });
  return found[0] as V1Pod;
}

const listen = (host: string, port: number) =>
  new Promise<Server | undefined>((resolve, reject) => {
    const s = createServer((c) => c.end());
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    s.listen(port, host, () => resolve(s));
  });

test('the other ends: a pod without component labels, one in another namespace wearing the frontend\'s labels, a stand-in for each ingress controller, a listener in dapr-system, the outside on the host', async (ctx) => {
  const pods = (await core(ctx).listNamespacedPod({ namespace: NS })).items;
  const components: Record<string, SourcePod> = {};
  // Running pods only: a finished Job's pod or one being replaced has no address to try.
  for (const p of pods.filter((p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp)) {
    const name = p.metadata?.labels?.[COMPONENT_LABEL];
    if (name && !components[name]) components[name] = { label: name, namespace: NS, name: p.metadata!.name!, container: p.spec!.containers[0]!.name };
  }
  const image = pods.find((p) => p.metadata?.labels?.[COMPONENT_LABEL] === 'backend')!.spec!.containers[0]!.image!;
  const idle = 'setInterval(() => {}, 1 << 30)';
  // One stand-in per ingress controller paths.ts names (its namespace and labels): the
  // controllers' own images carry no Node to probe with.
  const controllers = INGRESS_CONTROLLER_PODS.map((c, i) => ({ c, spec: podSpec(`netpol-probe-ingress-${i}`, c.namespace, c.labels, image, idle) }));
  for (const ns of [ELSEWHERE, ...controllers.map(({ c }) => c.namespace)]) {
    await core(ctx).createNamespace({ body: { metadata: { name: ns } } }).catch((e) => {
      if (!/409|AlreadyExists/.test(String(e))) throw e;
    });
  }
  const made = [
    podSpec('netpol-probe-unlabeled', NS, { 'todo-deploy.test/probe': 'unlabeled' }, image, idle),
    podSpec('netpol-probe-elsewhere', ELSEWHERE, { [COMPONENT_LABEL]: 'frontend' }, image, idle),
    ...controllers.map(({ spec }) => spec),
    podSpec('netpol-probe-dapr', DAPR_NS, { 'todo-deploy.test/probe': 'dapr-listener' }, image, `for (const p of ${JSON.stringify(DAPR_PORTS)}) require('net').createServer((s) => s.end()).listen(p)`),
  ];
  for (const p of made) await core(ctx).createNamespacedPod({ namespace: p.metadata!.namespace!, body: p });
  const dapr = (await Promise.all(made.map((p) => running(ctx, p.metadata!.namespace!, p.metadata!.name!)))).at(-1);
  for (const port of [443, 5432]) {
    const s = await listen(HOST_ADDRESS, port);
    if (s) ctx.listeners.push(s);
  }
  const services: Record<string, string> = {};
  for (const s of (await core(ctx).listNamespacedService({ namespace: NS })).items) services[s.metadata!.name!] = s.spec!.clusterIP!;
  const probe = (p: V1Pod, label: string): SourcePod => ({ label, namespace: p.metadata!.namespace!, name: p.metadata!.name!, container: 'probe' });
  ctx.world = {
    components,
    unlabeled: probe(made[0]!, 'unlabeled pod'),
    otherNamespace: probe(made[1]!, `${ELSEWHERE} pod`),
    namedPods: Object.fromEntries(controllers.map(({ c, spec }) => [c.namespace, probe(spec, `${c.labels[COMPONENT_LABEL] ?? c.namespace} stand-in`)])),
    services,
    dnsService: CLUSTER_DNS,
    listeners: { [DAPR_NS]: dapr!.status!.podIP! },
    outside: HOST_ADDRESS,
  };

  // kube-router turns pods and policies into chains as they appear: wait until every pod of the
  // namespace has its chain and every policy its own, so no attempt races the controller.
  const policies = (await ctx.kc!.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: NS })).items.length;
  const names = [...Object.values(components).map((c) => c.name), made[0]!.metadata!.name!];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const rules = filterRules(ctx.state!.node!.netns);
    const missing = unfiltered(rules, names, NS);
    const chains = policyState(ctx.state!.node!.netns).chains.filter((c) => c.startsWith('KUBE-NWPLCY-') && c !== 'KUBE-NWPLCY-DEFAULT').length;
    if (missing.length === 0 && chains >= policies) break;
    assert.ok(Date.now() < deadline, `kube-router did not catch up within 60 s: pods without chains ${missing.join(', ') || 'none'}; ${chains} of ${policies} policy chains`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

test('enforcement on: every allowed path connects; every forbidden one is refused or times out', (ctx) => {
  const list = attempts(ALLOWED_PATHS, FORBIDDEN_PATHS, ctx.world!);
  const started = Date.now();
  const outcomes = runAttempts(list, kubectl(), ctx.state!.kubeconfig);
  console.log(formatMatrix(`  the traffic matrix, enforcement on (${outcomes.length} attempts in ${((Date.now() - started) / 1000).toFixed(1)} s):`, outcomes));
  const wrong = outcomes.filter((o) => (o.result === 'connected') !== (o.expect === 'open'));
  assert.equal(wrong.map((o) => `${o.path.name}: ${o.from.label} -> ${o.to.label}: ${o.result}`), []);
  assert.ok(outcomes.some((o) => o.expect === 'closed') && outcomes.some((o) => o.expect === 'open'));
});

test("enforcement on: what up prints works from the host through the ingress, as the policies allow: the page, a todo through /api, and an MCP tool call through /mcp with the page's session that lists it", async (ctx) => {
  const ing = await ctx.kc!.makeApiClient(NetworkingV1Api).readNamespacedIngress({ name: 'todo-ingress', namespace: NS });
  const address = ing.status?.loadBalancer?.ingress?.[0]?.ip;
  assert.ok(address, 'the Ingress has its address');
  const http = curlVia('todo.local', address!, join(ctx.tmp!, 'cookies.txt'));
  assert.is((await http('http://todo.local/', { retry: true })).status, 200);
  const created = await http('http://todo.local/api/todos', { method: 'POST', json: { title: 'netpol: through the API' } });
  assert.is(created.status, 201, created.body);
  const listed = await http('http://todo.local/mcp', { method: 'POST', headers: MCP_HEADERS, json: rpc(1, 'tools/call', { name: 'list_tasks', arguments: {} }) });
  assert.is(listed.status, 200, listed.body);
  assert.match(listed.body, 'netpol: through the API');
  assert.not.match(listed.body, '"isError":true');
  console.log('  enforcement on: http://todo.local/mcp with the page\'s session listed the todo /api created');
});

test('enforcement off in the same node (kube-router stopped, its rules and ipsets removed): the forbidden paths open, so the matrix can fail; doctor says so', async (ctx) => {
  const left = await stopPolicyEnforcement(ctx.state!, ctx.stateFile!);
  assert.equal(left, []);
  assert.equal(policyState(ctx.state!.node!.netns), { chains: [], ipsets: [] }, 'nothing of kube-router is left in the node');
  const outcomes = runAttempts(attempts(ALLOWED_PATHS, FORBIDDEN_PATHS, ctx.world!), kubectl(), ctx.state!.kubeconfig);
  console.log(formatMatrix(`  the control run, enforcement off (${outcomes.length} attempts; every path expected to connect, the forbidden ones too):`, outcomes, () => 'open'));
  const closed = outcomes.filter((o) => o.result !== 'connected');
  assert.equal(closed.map((o) => `${o.path.name}: ${o.from.label} -> ${o.to.label}: ${o.result}`), [], 'without enforcement every path connects');
  const doctor = await runScript('doctor', ['--cluster', 'sandbox'], ctx.env!, 120_000);
  assert.match(doctor.output, /✗ NetworkPolicies\s+not enforced: the sandbox's real node runs without its NetworkPolicy controller/);
  assert.match(doctor.output, 'redis-svc:6379 (Redis has no password');
});

test('down --purge: the sandbox gone, and the host as it was (processes, ipsets, iptables, network namespace)', async (ctx) => {
  for (const s of ctx.listeners.splice(0)) s.close();
  const r = await runScript('down', ['--cluster', 'sandbox', '--purge'], ctx.env!, 600_000);
  assert.is(r.code, 0, show(r));
  assert.equal(hostDifferences(ctx.before!, hostSnapshot()), [], 'nothing is left or changed');
});

test.run();
