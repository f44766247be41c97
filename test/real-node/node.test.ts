// The real node on its own (lib/controlplane/node), started in-process by the control plane
// with pods real: it registers and goes Ready with containerd as its runtime, CoreDNS answers
// from the host through the kube-dns Service (which proves the host route, kube-proxy's rules,
// a pod's network and the pod reaching the API server through the `kubernetes` Service), the
// API server reads a pod's log through the kubelet (its client certificate), the host's kernel
// settings are as before while it runs, and stop() leaves the host exactly as it found it.
// Before it, a node is started and killed with its starter and reaper (nothing can clean up):
// this start must find it abandoned and remove it, saying so.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { Resolver } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/controlplane/index.ts';
import { CLUSTER_DNS, NODE_ADDRESS, NODE_NAME } from '../../lib/controlplane/node/layout.ts';
import { readVersions } from '../../lib/controlplane/versions.ts';
import { recoverAbandoned } from '../../lib/controlplane/state.ts';
import { networkExists } from '../../lib/controlplane/node/network.ts';
import { processesWith } from '../../lib/controlplane/node/host.ts';
import { abandonNode, type Abandoned } from './support/abandon.ts';
import { hostDifferences, hostSnapshot, type HostSnapshot } from './support/host.ts';

interface Ctx {
  before?: HostSnapshot;
  abandoned?: Abandoned;
  /** What the abandoned node left, seen before the next start. */
  leftBehind?: { network?: string; record: boolean; shims: number };
  lines: string[];
  plane?: ControlPlane;
  startedMs?: number;
}

const test = suite<Ctx>('real node: an abandoned node removed; start, serve, stop', { lines: [] });
let setupError: unknown;

test.before(async (ctx) => {
  ctx.before = hostSnapshot();
  try {
    ctx.abandoned = await abandonNode();
    const dir = ctx.abandoned.dir;
    ctx.leftBehind = { network: networkExists(), record: existsSync(`${dir}/node/record.json`), shims: processesWith('containerd-shim', `${dir}/`).length };
    const started = Date.now();
    ctx.plane = await startControlPlane({ pods: 'real', log: (l) => (ctx.lines.push(l), console.log(`  ${l}`)) });
    ctx.startedMs = Date.now() - started;
    console.log(`  control plane and real node up in ${(ctx.startedMs / 1000).toFixed(1)} s (removing the abandoned node included)`);
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
  // Whatever failed above: the abandoned node too (a no-op once the start removed it).
  const recovery = recoverAbandoned();
  if (recovery.line || recovery.left.length) console.log(`  after: ${recovery.line ?? ''} ${recovery.left.join('; ')}`);
});

test('a node killed with its starter and reaper is found abandoned by the next start, which removes it and says so', (ctx) => {
  const { dir } = ctx.abandoned!;
  assert.ok(ctx.leftBehind!.network, 'the kill left the network behind (else this test proves nothing)');
  assert.ok(ctx.leftBehind!.record, 'and the plane folder with its node record');
  const line = ctx.lines.find((l) => l.startsWith('real node: removed an abandoned node'));
  assert.ok(line, `the start says what it removed:\n${ctx.lines.join('\n')}`);
  assert.match(line!, `folder ${dir}`);
  assert.match(line!, /network namespace todo-deploy-node .*with veth todo-node-host, \d+ mounts/);
  assert.not.ok(existsSync(dir), 'the abandoned folder is gone');
  assert.equal(processesWith('containerd-shim', `${dir}/`), [], 'its containerd shims are gone');
});

test('the node registers with its real address and runtime, Ready and untainted', async (ctx) => {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const node = await core.readNode({ name: NODE_NAME });
  const v = readVersions();
  assert.ok(node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  assert.not.ok(node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready'));
  assert.ok(node.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === NODE_ADDRESS));
  assert.is(node.status?.nodeInfo?.containerRuntimeVersion, `containerd://${v.containerd}`);
  assert.is(node.status?.nodeInfo?.kubeletVersion, `v${v.kubernetes}`);
  assert.is(node.spec?.podCIDR, '10.244.0.0/24', 'the controller-manager gave it the range its bridge uses');
  assert.equal(ctx.plane!.nodes, [NODE_NAME]);
});

test('CoreDNS answers from the host through the kube-dns Service, with names it learned from the API server', async () => {
  const resolver = new Resolver({ timeout: 2000, tries: 3 });
  resolver.setServers([CLUSTER_DNS]);
  assert.equal(await resolver.resolve4('kubernetes.default.svc.cluster.local'), ['10.96.0.1']);
  assert.equal(await resolver.resolve4('kube-dns.kube-system.svc.cluster.local'), [CLUSTER_DNS]);
});

test('the API server reads a pod log through the kubelet (its client certificate is trusted)', async (ctx) => {
  const core = ctx.plane!.kc.makeApiClient(CoreV1Api);
  const pods = await core.listNamespacedPod({ namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
  assert.is(pods.items.length, 1);
  assert.is(pods.items[0]!.spec?.nodeName, NODE_NAME);
  const log = await core.readNamespacedPodLog({ name: pods.items[0]!.metadata!.name!, namespace: 'kube-system', container: 'coredns' });
  assert.match(String(log), /CoreDNS-\d+\.\d+\.\d+/);
});

test('while the node runs, the host kernel settings are as before the kubelet started', (ctx) => {
  assert.equal(hostSnapshot().sysctls, ctx.before!.sysctls);
});

test('stop leaves no process, network namespace, interface, route, mount, iptables rule, cgroup, host path or kernel setting behind', async (ctx) => {
  const dir = ctx.plane!.dir;
  await ctx.plane!.stop();
  const diffs = hostDifferences(ctx.before!, hostSnapshot());
  assert.equal(diffs, []);
  assert.not.ok(existsSync(dir), 'the plane folder is removed');
});

test.run();
