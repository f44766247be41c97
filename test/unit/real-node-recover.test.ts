// Whether a real node found on the host is abandoned (swept by the next start, `controlplane
// stop` and `down --purge`) or running (never touched): lib/controlplane/node/recover.ts.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { isShim, judgeExistingNode, programOf, type NodeFacts } from '../../lib/controlplane/node/recover.ts';

const test = suite('real node: abandoned or running');

const DIR = '/tmp/todo-deploy-cp-AbC123';
const NETWORK = 'network namespace todo-deploy-node (/run/netns/todo-deploy-node)';
const shim = { pid: 900, cmdline: `/root/.cache/todo-deploy/controlplane/containerd-2.1.4/bin/containerd-shim-runc-v2 -namespace k8s.io -id 4f1e -address ${DIR}/node/containerd/containerd.sock` };
const kubelet = { pid: 801, cmdline: `/root/.cache/todo-deploy/controlplane/kubernetes-1.34.1/bin/kubelet --config=${DIR}/node/kubelet.yaml` };
const etcd = { pid: 700, cmdline: `/root/.cache/todo-deploy/controlplane/etcd-3.6.5/bin/etcd --data-dir=${DIR}/etcd` };

const abandoned: NodeFacts = { network: NETWORK, netnsProcesses: [], planes: [{ dir: DIR, processes: [] }] };

test('nothing of a node on the host: nothing to do', () => {
  assert.equal(judgeExistingNode({ netnsProcesses: [], planes: [] }), { state: 'none' });
});

test('the network and a plane folder with a record, and no process of either: abandoned, that folder swept', () => {
  assert.equal(judgeExistingNode(abandoned), { state: 'abandoned', planes: [DIR], network: NETWORK });
});

test('containerd shims outlive containerd and hold the namespace, but not the node: still abandoned', () => {
  const v = judgeExistingNode({ ...abandoned, netnsProcesses: [shim], planes: [{ dir: DIR, processes: [shim] }] });
  assert.is(v.state, 'abandoned');
});

test('a program in the network namespace makes the node a running one, named with its pid', () => {
  assert.equal(judgeExistingNode({ ...abandoned, netnsProcesses: [kubelet, shim] }), { state: 'live', holders: ['kubelet (pid 801) in network namespace todo-deploy-node'] });
});

test('a process naming the plane folder (the API server, etcd: not in the namespace) keeps it running', () => {
  assert.equal(judgeExistingNode({ ...abandoned, planes: [{ dir: DIR, processes: [etcd] }] }), { state: 'live', holders: [`etcd (pid 700) of ${DIR}`] });
});

test('a node still being started (its starter alive, no program yet) is running', () => {
  assert.equal(judgeExistingNode({ ...abandoned, planes: [{ dir: DIR, processes: [], liveStarter: 4242 }] }), { state: 'live', holders: [`the process that started ${DIR} (pid 4242)`] });
});

test('a live process of the recorded (detached) plane keeps it running', () => {
  const v = judgeExistingNode({ ...abandoned, recorded: { dir: DIR, alive: [{ name: 'kube-apiserver', pid: 701 }] } });
  assert.equal(v, { state: 'live', holders: [`kube-apiserver (pid 701) of the recorded plane ${DIR}`] });
});

test('one process seen in the namespace and by its folder is named once', () => {
  const v = judgeExistingNode({ ...abandoned, netnsProcesses: [kubelet], planes: [{ dir: DIR, processes: [kubelet] }] });
  assert.equal(v, { state: 'live', holders: ['kubelet (pid 801) in network namespace todo-deploy-node'] });
});

test('a running node elsewhere protects every other folder: an older abandoned record is not swept while it runs', () => {
  const older = '/tmp/todo-deploy-cp-Old999';
  const v = judgeExistingNode({ network: NETWORK, netnsProcesses: [kubelet], planes: [{ dir: older, processes: [] }, { dir: DIR, processes: [kubelet] }] });
  assert.is(v.state, 'live');
});

test('a network with no plane folder at all: abandoned, nothing to sweep but the network', () => {
  assert.equal(judgeExistingNode({ network: NETWORK, netnsProcesses: [shim], planes: [] }), { state: 'abandoned', planes: [], network: NETWORK });
});

test('a folder left with a record after its network was removed by hand: abandoned, swept (mounts, kernel settings)', () => {
  assert.equal(judgeExistingNode({ netnsProcesses: [], planes: [{ dir: DIR, processes: [] }] }), { state: 'abandoned', planes: [DIR], network: undefined });
});

test('a program is named by its first argument; only containerd shims count as shims', () => {
  assert.is(programOf(kubelet.cmdline), 'kubelet');
  assert.ok(isShim(shim));
  assert.not.ok(isShim({ pid: 1, cmdline: 'containerd --config /x/containerd.toml' }));
  assert.not.ok(isShim({ pid: 1, cmdline: 'tail -f /x/containerd-shim.log' }));
});

test.run();
