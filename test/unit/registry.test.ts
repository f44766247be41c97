// The sandbox's image registry, as pure values: the registry's configuration files, its two
// endpoints, the node's containerd pointed at it (hosts.toml for that name only), a plane's
// registry counted as no holder of an abandoned node, its build group. (The check that REGISTRY
// answers before `up` builds anything: registry-probe.test.ts.) test/prod-path pushes to and
// pulls from the registry itself.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { containerdHostsToml, hostsDirName, isPlaneRegistry, registryApiUrl, registryConfig, registryEndpoints, registryEnv, registryLayoutFor } from '../../lib/controlplane/registry.ts';
import { containerdToml } from '../../lib/controlplane/node/render.ts';
import { nodeLayoutFor } from '../../lib/controlplane/node/layout.ts';
import { judgeExistingNode } from '../../lib/controlplane/node/recover.ts';
import { GROUPS, readVersions, REGISTRY_GROUPS } from '../../lib/controlplane/versions.ts';
import { buildGroupsFor } from '../prepare.ts';

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

registry.run();
