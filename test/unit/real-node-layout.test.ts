// Real nodes as a function of their index (lib/controlplane/node/layout.ts): the first node is
// laid out exactly as when it was the only one; each further node gets its own namespace, veth
// (at most 15 characters), link, address, pods' range, cgroup and folder, hangs off the first
// node's namespace (the host's FORWARD chain would drop traffic between nodes), and the host
// routes its link through the first node. Pure: nothing is started here (test/prod-path runs two).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { kubeletUser, layoutFor, tokenFileCsv, USERS, type Ports } from '../../lib/controlplane/config.ts';
import { CGROUP_ROOT, HOST_ADDRESS, HOST_VETH, MAX_REAL_NODES, NETNS, NODE_ADDRESS, NODE_NAME, NODE_POD_CIDR, NODE_SUBNET, nodeIdentity, nodeIndexOfNetns, nodeLayoutFor } from '../../lib/controlplane/node/layout.ts';
import { hostRoutesOf, networkUpCommands, wantedHostRoutes } from '../../lib/controlplane/node/network.ts';
import { cniConflist, kubeletArgs, kubeletConfig, kubeProxyConfig } from '../../lib/controlplane/node/render.ts';
import { isNodeProgram } from '../../lib/controlplane/state.ts';
import { networkPoliciesFor } from '../../lib/controlplane/index.ts';

const test = suite('real nodes: layout by index');

test('the first node is the one node as before: same names, addresses, range, cgroup and folder', () => {
  assert.equal(nodeIdentity(0), {
    index: 0,
    name: NODE_NAME,
    netns: NETNS,
    address: NODE_ADDRESS,
    linkSubnet: NODE_SUBNET,
    gateway: HOST_ADDRESS,
    upstreamVeth: HOST_VETH,
    podCidr: NODE_POD_CIDR,
    cgroupRoot: CGROUP_ROOT,
    dirName: 'node',
  });
  assert.equal([NODE_NAME, NETNS, HOST_VETH, NODE_ADDRESS, NODE_POD_CIDR], ['todo-deploy-node', 'todo-deploy-node', 'todo-node-host', '10.250.0.2', '10.244.0.0/24']);
  const l = nodeLayoutFor('/tmp/cp');
  assert.is(l.dir, '/tmp/cp/node');
  assert.is(l.clientCaCert, '/tmp/cp/node/pki/client-ca.crt');
  assert.equal(networkUpCommands(nodeIdentity(0)), networkUpCommands(), 'the first node\'s network commands do not change');
  assert.equal(hostRoutesOf(nodeIdentity(0)), []);
});

test('the second node: its own namespace, veth, link 10.250.1.0/24, address, the second /24 of the pod range, cgroup and folder', () => {
  assert.equal(nodeIdentity(1), {
    index: 1,
    name: 'todo-deploy-node-2',
    netns: 'todo-deploy-node-2',
    address: '10.250.1.2',
    linkSubnet: '10.250.1.0/24',
    gateway: '10.250.1.1',
    upstreamVeth: 'todo-node2',
    podCidr: '10.244.1.0/24',
    cgroupRoot: 'todo-deploy-node-2',
    dirName: 'node-2',
  });
  const l = nodeLayoutFor('/tmp/cp', 1);
  assert.is(l.dir, '/tmp/cp/node-2');
  assert.is(l.containerdSocket, '/tmp/cp/node-2/containerd/containerd.sock');
  assert.is(l.recordFile, '/tmp/cp/node-2/record.json');
  assert.is(l.clientCaCert, '/tmp/cp/node/pki/client-ca.crt', 'one client CA for the plane: the API server\'s certificate is trusted by every kubelet');
});

test('every node up to the limit is distinct in everything a host or a cluster tells apart; names fit the kernel\'s 15 characters', () => {
  const all = Array.from({ length: MAX_REAL_NODES }, (_, i) => nodeIdentity(i));
  for (const key of ['name', 'netns', 'address', 'linkSubnet', 'gateway', 'podCidr', 'cgroupRoot', 'dirName'] as const) {
    assert.is(new Set(all.map((n) => n[key])).size, MAX_REAL_NODES, key);
  }
  for (const n of all) {
    assert.ok(n.upstreamVeth.length <= 15, `${n.upstreamVeth} fits IFNAMSIZ`);
    assert.match(n.podCidr, /^10\.244\.\d\.0\/24$/, 'inside the cluster pod CIDR 10.244.0.0/16');
    assert.is(nodeIndexOfNetns(n.netns), n.index);
  }
  assert.throws(() => nodeIdentity(MAX_REAL_NODES), /from 0 to 8/);
  assert.throws(() => nodeIdentity(-1));
  assert.is(nodeIndexOfNetns('todo-deploy-node-10'), undefined);
  assert.is(nodeIndexOfNetns('todo-deploy-node-1'), undefined, 'the first node has no number');
  assert.is(nodeIndexOfNetns('other'), undefined);
});

test('a further node hangs off the first node\'s namespace, which routes its pods; the host routes its link through the first node; no firewall rule anywhere on the host', () => {
  const cmds = networkUpCommands(nodeIdentity(1)).map((c) => c.join(' '));
  const inFirst = `nsenter --net=/run/netns/${NETNS} --`;
  const inSecond = 'nsenter --net=/run/netns/todo-deploy-node-2 --';
  assert.is(cmds[0], 'ip netns add todo-deploy-node-2');
  assert.ok(cmds.includes(`${inFirst} ip link add todo-node2 type veth peer name eth0 netns todo-deploy-node-2`));
  assert.ok(cmds.includes(`${inFirst} ip addr add 10.250.1.1/24 dev todo-node2`));
  assert.ok(cmds.includes(`${inSecond} ip addr add 10.250.1.2/24 dev eth0`));
  assert.ok(cmds.includes(`${inSecond} ip route add default via 10.250.1.1`));
  assert.ok(cmds.includes(`${inFirst} ip route add 10.244.1.0/24 via 10.250.1.2 dev todo-node2`));
  assert.ok(cmds.includes(`ip route add 10.250.1.0/24 via ${NODE_ADDRESS} dev ${HOST_VETH}`));
  const onHost = cmds.filter((c) => !c.startsWith('nsenter'));
  assert.equal(onHost, ['ip netns add todo-deploy-node-2', `ip route add 10.250.1.0/24 via ${NODE_ADDRESS} dev ${HOST_VETH}`], 'the host gets a namespace and one route, nothing else');
  assert.not.ok(cmds.some((c) => /(^|-- )(iptables|sysctl)\b/.test(c)), 'no firewall rule, no sysctl command');
  assert.equal(hostRoutesOf(nodeIdentity(1)), [`10.250.1.0/24 via ${NODE_ADDRESS} dev ${HOST_VETH}`]);
  assert.equal(wantedHostRoutes(2), ['10.244.0.0/16', '10.96.0.0/16', '10.250.0.0/24', '10.250.1.0/24']);
  assert.equal(wantedHostRoutes(), ['10.244.0.0/16', '10.96.0.0/16', '10.250.0.0/24']);
});

test('each node\'s kubelet, kube-proxy and bridge speak for that node', () => {
  const l = nodeLayoutFor('/tmp/cp', 1);
  const k = kubeletConfig(l);
  assert.is(k.address, '10.250.1.2');
  assert.is(k.cgroupRoot, '/todo-deploy-node-2');
  assert.is((k.authentication as any).x509.clientCAFile, '/tmp/cp/node/pki/client-ca.crt');
  const args = kubeletArgs(l);
  assert.ok(args.includes('--hostname-override=todo-deploy-node-2'));
  assert.ok(args.includes('--node-ip=10.250.1.2'));
  assert.ok(args.includes('--root-dir=/tmp/cp/node-2/kubelet'));
  assert.is(kubeProxyConfig(l).hostnameOverride, 'todo-deploy-node-2');
  assert.equal((cniConflist(l).plugins as any)[0].ipam.ranges, [[{ subnet: '10.244.1.0/24' }]]);
  assert.equal((cniConflist(nodeLayoutFor('/tmp/cp')).plugins as any)[0].ipam.ranges, [[{ subnet: '10.244.0.0/24' }]]);
});

const ports: Ports = { etcdClient: 1, etcdPeer: 2, apiserver: 3, controllerManager: 4, scheduler: 5, kwok: 6 };

test('the plane: further nodes only with real pods; each further kubelet its own Node-authorizer user and token line', () => {
  assert.equal(layoutFor('/tmp/cp', ports, 'real').furtherNodes, []);
  assert.equal(layoutFor('/tmp/cp', ports, 'real', 3).furtherNodes.map((l) => l.name), ['todo-deploy-node-2', 'todo-deploy-node-3']);
  assert.equal(layoutFor('/tmp/cp', ports, 'simulated', 3).furtherNodes, []);
  assert.equal(kubeletUser('todo-deploy-node-2'), { user: 'system:node:todo-deploy-node-2', groups: ['system:nodes'] });
  assert.equal(USERS.kubelet, kubeletUser(NODE_NAME));
  const csv = tokenFileCsv({ admin: 'a' }, [{ token: 't2', ...kubeletUser('todo-deploy-node-2') }]);
  assert.is(csv, 'a,todo-deploy-admin,todo-deploy-admin,"system:masters"\nt2,system:node:todo-deploy-node-2,system:node:todo-deploy-node-2,"system:nodes"\n');
});

test('the node programs stopped first include every node\'s', () => {
  for (const name of ['kubelet', 'kube-proxy', 'containerd', 'kubelet-2', 'containerd-3', 'kube-proxy-9']) assert.ok(isNodeProgram(name), name);
  for (const name of ['etcd', 'kube-apiserver', 'registry', 'registry-nodes', 'ingress-stand-in', 'kubelet-x']) assert.not.ok(isNodeProgram(name), name);
});

test('several real nodes never enforce NetworkPolicies (kube-router runs in the first only): off when nobody asks, whatever one node does by default; asked for, refused with the fix', () => {
  for (const n of [2, 3, MAX_REAL_NODES]) assert.is(networkPoliciesFor('real', n, undefined), 'off');
  assert.is(networkPoliciesFor('real', 2, 'off'), 'off');
  assert.throws(() => networkPoliciesFor('real', 2, 'enforce'), /one real node only .*Use one node, or leave enforcement off/);
  assert.is(networkPoliciesFor('real', 1, 'enforce'), 'enforce');
  assert.is(networkPoliciesFor('real', 1, 'off'), 'off');
  assert.is(networkPoliciesFor('simulated', 1, undefined), 'off');
  assert.throws(() => networkPoliciesFor('simulated', 1, 'enforce'), /only with real pods/);
});

test.run();

const records = suite('real nodes: the further nodes\' records a sweep finds');

records('next to the first node\'s folder, the last node first; unreadable ones skipped', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { furtherNodeRecords } = await import('../../lib/controlplane/node/index.ts');
  const dir = mkdtempSync(join(tmpdir(), 'todo-deploy-records-'));
  try {
    for (const [name, netns] of [['node', NETNS], ['node-2', 'todo-deploy-node-2'], ['node-3', 'todo-deploy-node-3']]) {
      mkdirSync(join(dir, name!));
      writeFileSync(join(dir, name!, 'record.json'), JSON.stringify({ dir: join(dir, name!), netns }));
    }
    mkdirSync(join(dir, 'node-4'));
    writeFileSync(join(dir, 'node-4', 'record.json'), '{ not json');
    assert.equal(furtherNodeRecords(dir).map((r) => r.netns), ['todo-deploy-node-3', 'todo-deploy-node-2']);
    assert.equal(furtherNodeRecords(join(dir, 'absent')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

records.run();
