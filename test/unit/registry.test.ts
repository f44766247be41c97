// The sandbox's image registry and the prod push's first check, as pure values: the registry's
// configuration files, its two endpoints, the node's containerd pointed at it (hosts.toml for
// that name only), a plane's registry counted as no holder of an abandoned node, and REGISTRY
// read into the address `up` probes before it builds anything. One probe against a real closed
// and a real open port on loopback. test/prod-path pushes to and pulls from the registry itself.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { parse } from 'yaml';
import { containerdHostsToml, hostsDirName, isPlaneRegistry, registryApiUrl, registryConfig, registryEndpoints, registryEnv, registryLayoutFor } from '../../lib/controlplane/registry.ts';
import { containerdToml } from '../../lib/controlplane/node/render.ts';
import { nodeLayoutFor } from '../../lib/controlplane/node/layout.ts';
import { judgeExistingNode } from '../../lib/controlplane/node/recover.ts';
import { checkRegistryAnswers } from '../../lib/cluster/current.ts';
import { describeConnectError, probeTcp, registryAddress } from '../../lib/cluster/registry-probe.ts';
import { freePort } from '../../lib/free-port.ts';
import { GROUPS, readVersions, REGISTRY_GROUPS } from '../../lib/controlplane/versions.ts';
import { buildGroupsFor } from '../prepare.ts';
import { DeployError } from '../../lib/errors.ts';

const registry = suite('sandbox registry: files and endpoints');

registry('the store and both configuration files live in the plane folder, removed with it', () => {
  assert.equal(registryLayoutFor('/tmp/todo-deploy-cp-X'), {
    dir: '/tmp/todo-deploy-cp-X/registry',
    storage: '/tmp/todo-deploy-cp-X/registry/storage',
    pushConfig: '/tmp/todo-deploy-cp-X/registry/push.yml',
    nodesConfig: '/tmp/todo-deploy-cp-X/registry/nodes.yml',
  });
});

registry('Docker pushes to 127.0.0.1 (the one plain-HTTP address it trusts); real nodes pull from the host end of their network on the same port', () => {
  assert.equal(registryEndpoints(5123, '10.250.0.1'), { push: '127.0.0.1:5123', nodes: '10.250.0.1:5123' });
  assert.equal(registryEndpoints(5123), { push: '127.0.0.1:5123' });
  assert.is(registryApiUrl('127.0.0.1:5123'), 'http://127.0.0.1:5123/v2/');
});

registry('the configuration: one store, plain HTTP on one address, the nodes\' endpoint read-only, nothing that two processes sharing the store would trip on', () => {
  const push = parse(registryConfig({ addr: '127.0.0.1:5123', storage: '/s', readOnly: false, secret: 'k' }));
  const nodes = parse(registryConfig({ addr: '10.250.0.1:5123', storage: '/s', readOnly: true, secret: 'k' }));
  assert.is(push.version, 0.1);
  assert.equal(push.storage.filesystem, { rootdirectory: '/s' });
  assert.equal(nodes.storage.filesystem, { rootdirectory: '/s' });
  assert.is(push.storage.maintenance.readonly.enabled, false);
  assert.is(nodes.storage.maintenance.readonly.enabled, true);
  assert.is(push.storage.maintenance.uploadpurging.enabled, false);
  assert.is(push.storage.cache, undefined, 'no in-memory descriptor cache');
  assert.is(push.http.addr, '127.0.0.1:5123');
  assert.is(nodes.http.addr, '10.250.0.1:5123');
  assert.is(push.http.tls, undefined, 'plain HTTP');
  assert.is(push.log.accesslog.disabled, true);
});

registry('its OpenTelemetry exporters are off (they would send to localhost:4318 and log each failure)', () => {
  const env = registryEnv({ PATH: '/bin' });
  assert.is(env.OTEL_TRACES_EXPORTER, 'none');
  assert.is(env.PATH, '/bin');
});

registry('the node\'s containerd: hosts.toml for the registry\'s name only, its server the nodes\' endpoint over plain HTTP', () => {
  assert.is(hostsDirName('127.0.0.1:5123'), '127.0.0.1:5123');
  const toml = containerdHostsToml({ push: '127.0.0.1:5123', nodes: '10.250.0.1:5123' });
  assert.match(toml, /^server = "http:\/\/10\.250\.0\.1:5123"$/m);
  assert.not.match(toml, /https:/);
  assert.not.match(toml, /\[host\./, 'no mirror section (its fallback to https://127.0.0.1 inside a node would hide the real error)');
  const l = nodeLayoutFor('/tmp/cp');
  assert.is(l.registryHostsDir, '/tmp/cp/node/certs.d');
  const config = containerdToml(l, { cniBinDir: '/cni', runc: '/usr/sbin/runc', pauseImage: 'registry.k8s.io/pause:3.10.1' });
  assert.match(config, /\[plugins\.'io\.containerd\.cri\.v1\.images'\.registry\]\n\s+#[^\n]*\n\s+#[^\n]*\n\s+config_path = "\/tmp\/cp\/node\/certs\.d"/);
});

registry('a plane\'s registry process is told apart from every other program', () => {
  assert.ok(isPlaneRegistry('/root/.cache/todo-deploy/controlplane/registry-3.1.2/bin/registry serve /tmp/todo-deploy-cp-X/registry/push.yml'));
  assert.ok(isPlaneRegistry('/c/registry-3.1.2/bin/registry serve /tmp/todo-deploy-cp-X/registry/nodes.yml'));
  assert.not.ok(isPlaneRegistry('/c/kubernetes-1.34.4/bin/kube-apiserver --cert-dir=/tmp/todo-deploy-cp-X/registry/push.yml'));
  assert.not.ok(isPlaneRegistry('/usr/bin/registry garbage-collect /tmp/todo-deploy-cp-X/registry/push.yml'));
});

registry('an abandoned node whose plane\'s registry still runs is abandoned all the same (the sweep ends the registry); etcd still holds it', () => {
  const DIR = '/tmp/todo-deploy-cp-R';
  const reg = { pid: 910, cmdline: `/c/registry-3.1.2/bin/registry serve ${DIR}/registry/nodes.yml` };
  const etcd = { pid: 700, cmdline: `/c/etcd-3.6.16/bin/etcd --data-dir=${DIR}/etcd` };
  assert.is(judgeExistingNode({ network: 'ns', netnsProcesses: [], planes: [{ dir: DIR, processes: [reg] }] }).state, 'abandoned');
  assert.is(judgeExistingNode({ network: 'ns', netnsProcesses: [], planes: [{ dir: DIR, processes: [reg, etcd] }] }).state, 'live');
});

registry('the registry is a build group of its own, pinned in versions.env, built by the test command only for a suite that runs it', () => {
  assert.equal(REGISTRY_GROUPS, ['registry']);
  assert.equal(GROUPS.registry.binaries, ['registry']);
  assert.match(readVersions().distribution, /^3\.\d+\.\d+$/);
  assert.equal(buildGroupsFor({ controlPlane: true }), ['controlplane', 'node']);
  assert.equal(buildGroupsFor({ controlPlane: true, registry: true }), ['controlplane', 'node', 'registry']);
  assert.equal(buildGroupsFor({ controlPlane: false }), []);
});

const probe = suite('prod push: the registry answers before anything is built');

probe('REGISTRY read as docker reads it: host and port of the first component, 443 without a port', () => {
  assert.equal(registryAddress('127.0.0.1:5123'), { host: '127.0.0.1', port: 5123 });
  assert.equal(registryAddress('127.0.0.1:5123/todo'), { host: '127.0.0.1', port: 5123 });
  assert.equal(registryAddress('registry.example.com/team/todo'), { host: 'registry.example.com', port: 443 });
  assert.equal(registryAddress('registry.example.com'), { host: 'registry.example.com', port: 443 });
  assert.equal(registryAddress('[::1]:5000/todo'), { host: '::1', port: 5000 });
  assert.equal(registryAddress('https://r.example:8443/x'), { host: 'r.example', port: 8443 });
});

probe('a failed connection in words, with the system\'s code', () => {
  assert.match(describeConnectError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), /nothing listens there \(ECONNREFUSED\)/);
  assert.match(describeConnectError(Object.assign(new Error('x'), { code: 'ENOTFOUND' })), /does not resolve/);
});

probe('a real closed port on loopback is refused; a real listener answers', async () => {
  const closed = await freePort();
  assert.match((await probeTcp('127.0.0.1', closed)) ?? '', /ECONNREFUSED/);
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    assert.is(await probeTcp('127.0.0.1', port), undefined);
  } finally {
    server.close();
  }
});

probe('prod with REGISTRY down: a DeployError naming REGISTRY, its address, the reason and the fix; nothing checked in dev or without REGISTRY', async () => {
  const refused = async () => 'connection refused: nothing listens there (ECONNREFUSED)';
  const err = await checkRegistryAnswers({ environment: 'prod', settings: { REGISTRY: '127.0.0.1:5999/todo' } }, refused).then(() => undefined, (e) => e);
  assert.instance(err, DeployError);
  assert.match(err.message, 'REGISTRY=127.0.0.1:5999/todo names a registry at 127.0.0.1:5999, and connection refused');
  assert.match(err.message, 'Nothing was built, installed or applied.');
  assert.match(err.message, /Fix: start that registry/);
  assert.is(await checkRegistryAnswers({ environment: 'prod', settings: { REGISTRY: 'r.example:5000' } }, async () => undefined), 'registry r.example:5000 answers');
  let asked = false;
  const spy = async () => ((asked = true), undefined);
  assert.is(await checkRegistryAnswers({ environment: 'dev', settings: { REGISTRY: 'r.example' } }, spy), undefined);
  assert.is(await checkRegistryAnswers({ environment: 'prod', settings: {} }, spy), undefined);
  assert.not.ok(asked, 'no probe in dev or without REGISTRY');
});

registry.run();
probe.run();
