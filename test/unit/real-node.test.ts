// The pure parts of the real node: the API server and controller-manager flags it needs, its
// network commands, its configuration files (containerd, CNI, kubelet, kube-proxy, CoreDNS),
// the verdict on whether it can run here, and the host bookkeeping (mounts, kernel settings).
// Nothing is started here; test/real-node runs the node itself.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { apiserverArgs, controllerManagerArgs, identitiesFor, layoutFor, POD_CIDR, SERVICE_CIDR, tokenFileCsv, USERS, type Ports } from '../../lib/controlplane/config.ts';
import { createHash } from 'node:crypto';
import { changedSysctls, mountsUnder, parseMountPoints, shimSocketNames } from '../../lib/controlplane/node/host.ts';
import { CLUSTER_DNS, HOST_ADDRESS, HOST_VETH, NETNS, NODE_ADDRESS, NODE_NAME, NODE_POD_CIDR, nodeLayoutFor } from '../../lib/controlplane/node/layout.ts';
import { inNetns, networkUpCommands } from '../../lib/controlplane/node/network.ts';
import { firstServiceAddress, judgeDnsAnswer, waitForClusterDns } from '../../lib/controlplane/node/cluster-dns.ts';
import { endpointsOf, unrouted } from '../../lib/controlplane/node/service-routes.ts';
import { pkiCommands } from '../../lib/controlplane/node/pki.ts';
import { cniConflist, containerdToml, corednsObjects, ctrArgs, kubeletArgs, kubeletConfig, kubeProxyConfig } from '../../lib/controlplane/node/render.ts';
import { judgeRealNode, type HostFacts } from '../../lib/controlplane/node/support.ts';
import { choosePods, describePods, parsePodsSetting } from '../../lib/cluster/sandbox-pods.ts';
import { normalizeImageRef } from '../../lib/cluster/sandbox.ts';
import { UsageError } from '../../lib/errors.ts';

const ports: Ports = { etcdClient: 40001, etcdPeer: 40002, apiserver: 40003, controllerManager: 40004, scheduler: 40005, kwok: 40006 };
const flag = (args: string[], name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const plane = suite('real node: control-plane flags');

plane('with real pods the API server binds and advertises the host end of the veth, not loopback', () => {
  const l = layoutFor('/tmp/cp-r', ports, 'real');
  const a = apiserverArgs(l);
  assert.is(flag(a, 'bind-address'), HOST_ADDRESS);
  assert.is(flag(a, 'advertise-address'), HOST_ADDRESS);
  assert.is(l.server, `https://${HOST_ADDRESS}:40003`);
  // The endpoint reconciler stays on, so pods reach it through the `kubernetes` Service.
  assert.is(flag(a, 'endpoint-reconciler-type'), undefined);
  assert.is(flag(a, 'client-ca-file'), '/tmp/cp-r/node/pki/client-ca.crt');
  assert.is(flag(a, 'kubelet-client-certificate'), '/tmp/cp-r/node/pki/apiserver-kubelet-client.crt');
  assert.is(flag(a, 'kubelet-client-key'), '/tmp/cp-r/node/pki/apiserver-kubelet-client.key');
  assert.is(flag(a, 'authorization-mode'), 'Node,RBAC');
  assert.is(flag(a, 'enable-admission-plugins'), 'NodeRestriction');
});

plane('with simulated pods nothing changes: loopback, no endpoint reconciler, no client CA', () => {
  const l = layoutFor('/tmp/cp-s', ports);
  const a = apiserverArgs(l);
  assert.is(flag(a, 'bind-address'), '127.0.0.1');
  assert.is(flag(a, 'endpoint-reconciler-type'), 'none');
  assert.is(flag(a, 'client-ca-file'), undefined);
  assert.is(l.node, undefined);
  assert.is(flag(controllerManagerArgs(l), 'allocate-node-cidrs'), undefined);
});

plane('the controller-manager allocates node pod ranges from the cluster CIDR', () => {
  const a = controllerManagerArgs(layoutFor('/tmp/cp-r', ports, 'real'));
  assert.is(flag(a, 'allocate-node-cidrs'), 'true');
  assert.is(flag(a, 'cluster-cidr'), POD_CIDR);
  assert.is(flag(a, 'node-cidr-mask-size'), '24');
  assert.is(flag(a, 'service-cluster-ip-range'), SERVICE_CIDR);
  // The node's bridge uses the first /24, the one the first node is given.
  assert.ok(NODE_POD_CIDR.startsWith(POD_CIDR.split('/')[0]) && NODE_POD_CIDR.endsWith('/24'));
});

plane('the kubelet is a node identity and kube-proxy the user RBAC binds to system:node-proxier; kube-router a user of its own; kwok has no token', () => {
  assert.equal(identitiesFor('real'), ['admin', 'controllerManager', 'scheduler', 'kubelet', 'kubeProxy', 'networkPolicyController']);
  assert.equal(USERS.networkPolicyController, { user: 'todo-deploy:network-policy-controller', groups: [] });
  assert.equal(USERS.kubelet, { user: `system:node:${NODE_NAME}`, groups: ['system:nodes'] });
  assert.equal(USERS.kubeProxy, { user: 'system:kube-proxy', groups: [] });
  const csv = tokenFileCsv({ kubelet: 't1', kubeProxy: 't2' });
  assert.equal(csv.trimEnd().split('\n'), [`t1,system:node:${NODE_NAME},system:node:${NODE_NAME},"system:nodes"`, 't2,system:kube-proxy,system:kube-proxy']);
});

plane.run();

const net = suite('real node: network');

net('the namespace gets the node end of a veth, a default route to the host, forwarding; the host routes pods and Services to it', () => {
  const cmds = networkUpCommands().map((c) => c.join(' '));
  assert.is(cmds[0], `ip netns add ${NETNS}`);
  assert.ok(cmds.includes(`ip link add ${HOST_VETH} type veth peer name eth0 netns ${NETNS}`));
  assert.ok(cmds.includes(`ip addr add ${HOST_ADDRESS}/24 dev ${HOST_VETH}`));
  assert.ok(cmds.includes(`nsenter --net=/run/netns/${NETNS} -- ip addr add ${NODE_ADDRESS}/24 dev eth0`));
  assert.ok(cmds.includes(`nsenter --net=/run/netns/${NETNS} -- ip route add default via ${HOST_ADDRESS}`));
  assert.ok(cmds.some((c) => c.includes('/proc/sys/net/ipv4/ip_forward') && c.startsWith('nsenter')), 'forwarding is set inside the namespace only');
  assert.ok(cmds.includes(`ip route add ${POD_CIDR} via ${NODE_ADDRESS} dev ${HOST_VETH}`));
  assert.ok(cmds.includes(`ip route add ${SERVICE_CIDR} via ${NODE_ADDRESS} dev ${HOST_VETH}`));
  assert.not.ok(cmds.some((c) => /^iptables|^sysctl/.test(c)), 'nothing is written to the host firewall or kernel settings');
  assert.ok(HOST_VETH.length <= 15, 'interface names have at most 15 characters');
});

net('programs enter only the network namespace (they must share the host mount namespace)', () => {
  assert.equal(inNetns(['kubelet', '--v=1']), ['nsenter', `--net=/run/netns/${NETNS}`, '--', 'kubelet', '--v=1']);
});

net.run();

const files = suite('real node: configuration files');
const l = nodeLayoutFor('/tmp/cp-r');

files('containerd 2 (config version 3): its own root, state and socket; the settings this host needs', () => {
  const toml = containerdToml(l, { cniBinDir: '/c/cni/bin', runc: '/usr/sbin/runc', pauseImage: 'registry.k8s.io/pause:3.10.1' });
  assert.match(toml, /^version = 3$/m);
  assert.match(toml, 'root = "/tmp/cp-r/node/containerd/root"');
  assert.match(toml, 'state = "/tmp/cp-r/node/containerd/state"');
  assert.match(toml, 'address = "/tmp/cp-r/node/containerd/containerd.sock"');
  assert.match(toml, /restrict_oom_score_adj = true/);
  assert.match(toml, /netns_mounts_under_state_dir = true/);
  assert.match(toml, /sandbox = "registry\.k8s\.io\/pause:3\.10\.1"/);
  assert.match(toml, /BinaryName = "\/usr\/sbin\/runc"/);
  assert.match(toml, /SystemdCgroup = false/);
  assert.match(toml, /bin_dirs = \["\/c\/cni\/bin"\]/);
  assert.match(toml, 'conf_dir = "/tmp/cp-r/node/cni/net.d"');
  assert.match(toml, /\[plugins\.'io\.containerd\.nri\.v1\.nri'\]\n\s+disable = true/);
});

files('the pods bridge takes the node pod range, keeps pod addresses (no masquerade) and stores leases in the node folder', () => {
  const c = cniConflist(l) as any;
  assert.is(c.plugins[0].type, 'bridge');
  assert.is(c.plugins[0].ipMasq, false);
  assert.is(c.plugins[0].hairpinMode, true);
  assert.equal(c.plugins[0].ipam.ranges, [[{ subnet: NODE_POD_CIDR }]]);
  assert.is(c.plugins[0].ipam.dataDir, '/tmp/cp-r/node/cni/networks');
  assert.is(c.plugins[1].type, 'portmap');
});

files('the kubelet: cgroupfs on cgroup v1, no OOM score change, cluster DNS, webhook auth with the client CA, our cgroup root', () => {
  const k = kubeletConfig(l) as any;
  assert.is(k.kind, 'KubeletConfiguration');
  assert.is(k.cgroupDriver, 'cgroupfs');
  assert.is(k.failCgroupV1, false);
  assert.is(k.failSwapOn, false);
  assert.is(k.oomScoreAdj, 0);
  assert.is(k.address, NODE_ADDRESS);
  assert.equal(k.clusterDNS, [CLUSTER_DNS]);
  assert.is(k.containerRuntimeEndpoint, 'unix:///tmp/cp-r/node/containerd/containerd.sock');
  assert.is(k.authentication.anonymous.enabled, false);
  assert.is(k.authentication.x509.clientCAFile, '/tmp/cp-r/node/pki/client-ca.crt');
  assert.is(k.authorization.mode, 'Webhook');
  assert.is(k.cgroupRoot, '/todo-deploy-node');
  assert.is(k.podLogsDir, '/tmp/cp-r/node/pod-logs');
  assert.is(k.imageGCHighThresholdPercent, 100, 'imported images are never collected');
  // It must round-trip through YAML unchanged.
  assert.equal(parse(JSON.stringify(k)), k);
  const a = kubeletArgs(l);
  assert.is(flag(a, 'hostname-override'), NODE_NAME);
  assert.is(flag(a, 'node-ip'), NODE_ADDRESS);
  assert.is(flag(a, 'root-dir'), '/tmp/cp-r/node/kubelet');
});

files('kube-proxy: iptables mode, leaves conntrack limits and route_localnet alone', () => {
  const p = kubeProxyConfig(l) as any;
  assert.is(p.mode, 'iptables');
  assert.is(p.clusterCIDR, POD_CIDR);
  assert.is(p.hostnameOverride, NODE_NAME);
  assert.equal(p.conntrack, { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' });
  assert.is(p.iptables.localhostNodePorts, false);
  assert.is(p.oomScoreAdj, 0);
});

files('CoreDNS: RBAC, its Corefile, a Deployment of the imported image (never pulled) and kube-dns at the cluster DNS address', () => {
  const objects = corednsObjects('registry.k8s.io/coredns/coredns:v1.15.0');
  assert.equal(objects.map((o) => o.kind), ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Service']);
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  const c = deployment.spec.template.spec.containers[0];
  assert.is(c.image, 'registry.k8s.io/coredns/coredns:v1.15.0');
  assert.is(c.imagePullPolicy, 'Never');
  assert.is(deployment.spec.template.spec.dnsPolicy, 'Default');
  const service = objects.find((o) => o.kind === 'Service')!;
  assert.is(service.metadata.name, 'kube-dns');
  assert.is(service.spec.clusterIP, CLUSTER_DNS);
  assert.match(objects.find((o) => o.kind === 'ConfigMap')!.data.Corefile, /kubernetes cluster\.local/);
  assert.not.match(objects.find((o) => o.kind === 'ConfigMap')!.data.Corefile, /forward/);
});

files('ctr talks to the node containerd in the CRI namespace', () => {
  assert.equal(ctrArgs(l, 'images', 'list'), ['--address', '/tmp/cp-r/node/containerd/containerd.sock', '--namespace', 'k8s.io', 'images', 'list']);
});

files('the API server client certificate is signed by the client CA the kubelet trusts, as system:masters', () => {
  const cmds = pkiCommands(l).map((c) => c.join(' '));
  assert.match(cmds[0], `-out ${l.clientCaCert}`);
  assert.match(cmds[1], '/O=system:masters/CN=kube-apiserver-kubelet-client');
  assert.match(cmds[2], `-CA ${l.clientCaCert}`);
  assert.match(cmds[2], `-out ${l.apiserverKubeletClientCert}`);
});

files.run();

const support = suite('real node: can it run here');
const good: HostFacts = { platform: 'linux', uid: 0, cgroups: { version: 1, controllers: ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids', 'blkio'] }, missingTools: [] };

support('Linux, root, cgroups with the controllers and the tools: possible', () => {
  const v = judgeRealNode(good);
  assert.ok(v.possible);
  assert.equal(v.reasons, []);
  assert.match(v.summary, 'cgroup v1');
});

support('not Linux, not root, no cgroups, a missing controller or tool: each is said', () => {
  assert.match(judgeRealNode({ ...good, platform: 'darwin' }).reasons.join(), 'this is darwin, not Linux');
  assert.match(judgeRealNode({ ...good, uid: 1000 }).reasons.join(), 'not running as root (uid 1000)');
  assert.match(judgeRealNode({ ...good, cgroups: { version: undefined, controllers: [] } }).reasons.join(), 'no cgroup hierarchy');
  assert.match(judgeRealNode({ ...good, cgroups: { version: 1, controllers: ['cpu', 'cpuacct', 'cpuset', 'pids'] } }).reasons.join(), 'controllers memory are missing');
  assert.match(judgeRealNode({ ...good, missingTools: ['nsenter', 'ip'] }).reasons.join(), 'nsenter, ip not on PATH (install the packages util-linux, iproute2)');
  const v = judgeRealNode({ ...good, uid: 1000, missingTools: ['openssl'] });
  assert.not.ok(v.possible);
  assert.is(v.reasons.length, 2);
});

support('cgroup v2 has no cpuacct controller, and needs none', () => {
  assert.ok(judgeRealNode({ ...good, cgroups: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] } }).possible);
});

support.run();

const host = suite('real node: host bookkeeping');

host('mount points are read from mountinfo (escapes decoded) and those under a folder come deepest first', () => {
  const info = [
    '22 1 254:0 / / rw - ext4 /dev/vda rw',
    '60 22 0:50 / /tmp/cp/node/kubelet rw shared:1 - ext4 /dev/vda rw',
    '61 60 0:51 / /tmp/cp/node/kubelet/pods/x/volumes/a\\040b rw - tmpfs tmpfs rw',
    '62 22 0:52 / /tmp/cp/node-other rw - tmpfs tmpfs rw',
  ].join('\n');
  const points = parseMountPoints(info);
  assert.equal(points, ['/', '/tmp/cp/node/kubelet', '/tmp/cp/node/kubelet/pods/x/volumes/a b', '/tmp/cp/node-other']);
  assert.equal(mountsUnder(points, '/tmp/cp/node'), ['/tmp/cp/node/kubelet/pods/x/volumes/a b', '/tmp/cp/node/kubelet']);
});

host('a shim socket in containerd\'s shared folder is named by the hash of our address, namespace and task id', () => {
  // sha256("/s/c.sock/k8s.io/abc") and of ".../debug", as containerd's shim package computes them.
  const [plain, debug] = shimSocketNames('/s/c.sock', 'k8s.io', 'abc');
  assert.is(plain, createHash('sha256').update('/s/c.sock/k8s.io/abc').digest('hex'));
  assert.is(debug, createHash('sha256').update('/s/c.sock/k8s.io/abc/debug').digest('hex'));
});

host('a kernel setting counts as changed only when it still exists and differs', () => {
  assert.equal(changedSysctls({ 'kernel/panic': '0', 'vm/overcommit_memory': '0', 'kernel/x': '1' }, { 'kernel/panic': '10', 'vm/overcommit_memory': '0' }), ['kernel/panic']);
});

host.run();

const pods = suite('sandbox: which pods');
const canRun = { possible: true, reasons: [], summary: 'Linux, root, cgroup v1' };
const cannot = { possible: false, reasons: ['not running as root (uid 1000): the node creates a network namespace, cgroups and mounts'], summary: '' };

pods('by default: real where the host, Docker and the build allow, else simulated with every reason', () => {
  assert.equal(choosePods({ host: canRun, docker: true, buildable: true }).pods, 'real');
  const sim = choosePods({ host: cannot, docker: false, buildable: false });
  assert.is(sim.pods, 'simulated');
  assert.match(sim.why, 'not running as root (uid 1000)');
  assert.match(sim.why, 'no Docker engine answers');
  assert.match(sim.why, 'the node programs are not built and Go is not installed');
  assert.match(describePods(sim), /^pods simulated by kwok, nothing serves traffic \(not running as root/);
  assert.match(describePods({ pods: 'real', why: '' }), 'pods run on a real node');
});

pods('--pods simulated is honoured anywhere; --pods real where it cannot run is refused (exit 2) with the reasons', () => {
  assert.equal(choosePods({ requested: 'simulated', host: canRun, docker: true, buildable: true }), { pods: 'simulated', why: 'asked for with --pods simulated' });
  assert.throws(() => choosePods({ requested: 'real', host: cannot, docker: true, buildable: true }), (err: Error) => err instanceof UsageError && /--pods real: a real node cannot run here: not running as root/.test(err.message) && /--pods simulated/.test(err.message));
  assert.is(choosePods({ requested: 'real', host: canRun, docker: true, buildable: true }).pods, 'real');
});

pods('a running sandbox keeps its pods; asking for the other kind says how to switch', () => {
  assert.is(choosePods({ running: 'real', host: cannot, docker: false, buildable: false }).pods, 'real');
  assert.throws(() => choosePods({ running: 'simulated', requested: 'real', host: canRun, docker: true, buildable: true }), /already runs with simulated pods; --pods real needs a new one\. Fix: `npm run down -- --cluster sandbox --purge`/);
});

pods('SANDBOX_PODS is real, simulated or unset; anything else names the setting', () => {
  assert.is(parsePodsSetting(' real '), 'real');
  assert.is(parsePodsSetting(''), undefined);
  assert.is(parsePodsSetting(undefined), undefined);
  assert.throws(() => parsePodsSetting('fake'), /SANDBOX_PODS is "fake", which is neither real nor simulated/);
});

pods('a Docker image name as containerd stores it', () => {
  assert.is(normalizeImageRef('todo-backend:abc123'), 'docker.io/library/todo-backend:abc123');
  assert.is(normalizeImageRef('todo-deploy/postgres:16-x'), 'docker.io/todo-deploy/postgres:16-x');
  assert.is(normalizeImageRef('registry.k8s.io/pause:3.10.1'), 'registry.k8s.io/pause:3.10.1');
  assert.is(normalizeImageRef('localhost:5000/a:1'), 'localhost:5000/a:1');
});

pods.run();

const dns = suite('real node: the cluster DNS gate');

dns('the kubernetes Service is the first address of the service range', () => {
  assert.is(firstServiceAddress(SERVICE_CIDR), '10.96.0.1');
  assert.is(firstServiceAddress('10.100.7.0/24'), '10.100.7.1');
  assert.is(firstServiceAddress('172.20.255.255/12'), '172.16.0.1');
  assert.throws(() => firstServiceAddress('fd00::/108'), /not an IPv4 range/);
});

dns('an answer passes only when the name resolves to the kubernetes Service', () => {
  assert.equal(judgeDnsAnswer({ addresses: ['10.96.0.1'] }, '10.96.0.1'), { ok: true, detail: 'kubernetes.default.svc.cluster.local is 10.96.0.1' });
  assert.equal(judgeDnsAnswer({ error: 'ECONNREFUSED' }, '10.96.0.1'), { ok: false, detail: 'ECONNREFUSED' });
  assert.equal(judgeDnsAnswer({ addresses: [] }, '10.96.0.1').ok, false);
  assert.match(judgeDnsAnswer({ addresses: ['10.96.0.9'] }, '10.96.0.1').detail, 'answered 10.96.0.9, not 10.96.0.1');
});

dns('the wait queries the kube-dns address until the answer is right, counting the failures before it', async () => {
  const answers = [{ error: 'ECONNREFUSED' }, { error: 'ETIMEOUT' }, { addresses: ['10.96.0.1'] }];
  const asked: string[] = [];
  const query = async (server: string, name: string) => (asked.push(`${server} ${name}`), answers.shift()!);
  const r = await waitForClusterDns({ expected: '10.96.0.1', deadlineMs: 60_000, explain: () => '', query });
  assert.equal([r.failed, r.firstFailure], [2, 'ECONNREFUSED']);
  assert.equal(asked, Array(3).fill(`${CLUSTER_DNS} kubernetes.default.svc.cluster.local`));
  const first = await waitForClusterDns({ expected: '10.96.0.1', deadlineMs: 60_000, explain: () => '', query: async () => ({ addresses: ['10.96.0.1'] }) });
  assert.equal([first.failed, first.firstFailure], [0, undefined]);
});

dns('at the deadline the wait fails with the last answer and what to read', async () => {
  const err = await waitForClusterDns({ expected: '10.96.0.1', deadlineMs: 0, explain: () => 'Last lines of kube-proxy.log: x', query: async () => ({ error: 'ECONNREFUSED' }) }).then(() => undefined, (e) => e as Error);
  assert.ok(err);
  assert.match(err!.message, /did not answer kubernetes\.default\.svc\.cluster\.local within 0 s \(last: ECONNREFUSED\).*Last lines of kube-proxy\.log: x/s);
});

dns('kube-proxy\'s DNAT rules as iptables-save prints them: an endpoint without its Service\'s rule is not routed', () => {
  const rules = [
    '-A KUBE-SEP-ABC -s 10.244.0.7/32 -m comment --comment "todo/backend-svc:http" -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-ABC -p tcp -m comment --comment "todo/backend-svc:http" -m tcp -j DNAT --to-destination 10.244.0.7:8000',
    '-A KUBE-SEP-DEF -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.2:53',
  ].join('\n');
  const backend = { service: 'todo/backend-svc:http', address: '10.244.0.7', port: 8000 };
  const other = { service: 'todo/backend-svc:http', address: '10.244.0.9', port: 8000 };
  const frontend = { service: 'todo/frontend-svc:http', address: '10.244.0.7', port: 8000 };
  assert.equal(unrouted(rules, [backend, other, frontend]), [other, frontend]);
  assert.equal(unrouted('', [backend]), [backend]);
});

dns('the endpoints kube-proxy is to route: ready ones of IPv4 slices, not headless Services\' or another proxy\'s', () => {
  const slice = (name: string, labels: Record<string, string> = {}, addressType = 'IPv4') => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-abc`, labels: { 'kubernetes.io/service-name': name, ...labels } },
    addressType,
    ports: [{ name: 'http', port: 8000 }],
    endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true } }, { addresses: ['10.244.0.8'], conditions: { ready: false } }],
  });
  const slices = [slice('backend-svc'), slice('db', { 'service.kubernetes.io/headless': '' }), slice('other', { 'service.kubernetes.io/service-proxy-name': 'x' }), slice('v6', {}, 'IPv6')];
  assert.equal(endpointsOf(slices as any, 'todo'), [{ service: 'todo/backend-svc:http', address: '10.244.0.7', port: 8000 }]);
});

dns.run();
