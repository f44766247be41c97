// doctor's judgement on hand-written probes: which finding is ✓ or ✗, which blocks `up` for
// which provider, and the printed report.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { evaluate, exitCode, formatReport, type CheckLine, type Probe } from '../../lib/doctor/checks.ts';

/** A machine where `up --cluster minikube` has everything: the starting point of each case. */
function ready(overrides: Partial<Probe> = {}): Probe {
  return {
    provider: 'minikube',
    defaulted: true,
    environment: 'dev',
    node: { version: '22.23.3' },
    docker: { found: true, reachable: true, version: '28.5.1' },
    tools: { minikube: { path: '/usr/local/bin/minikube', version: 'v1.37.0' }, kind: {}, helm: { path: '/usr/local/bin/helm', version: 'v3.19.0' }, dapr: {} },
    daprVersion: '1.16.9',
    cluster: { state: 'reachable', description: 'minikube profile todo: running; context todo' },
    ingress: { controller: 'ready', ingressClass: 'k8s.io/ingress-nginx' },
    dapr: { notReady: [] },
    networkPolicies: { enforces: true, by: 'Calico (DaemonSet kube-system/calico-node)' },
    host: { domain: 'todo.local', address: '192.168.49.2', resolves: true, serves: true, hostsFile: '/etc/hosts' },
    ...overrides,
  };
}

const byName = (lines: CheckLine[], name: string) => {
  const found = lines.find((l) => l.name === name);
  if (!found) throw new Error(`no check named ${name}: ${lines.map((l) => l.name).join(', ')}`);
  return found;
};

const test = suite('doctor: checks');

test('a ready machine: ten checks, all ✓, exit 0', () => {
  const lines = evaluate(ready());
  assert.equal(lines.map((l) => l.name), ['Node.js', 'Configuration', 'Docker', 'minikube or kind', 'helm or dapr', 'Cluster (minikube)', 'NetworkPolicies', 'Ingress controller', 'Dapr control plane', 'Host name']);
  assert.ok(lines.every((l) => l.ok), JSON.stringify(lines.filter((l) => !l.ok)));
  assert.is(exitCode(lines), 0);
});

test('NetworkPolicies: enforced is ✓; not enforced is ✗ without blocking, naming Redis and the provider\'s way to enforcement; unasked says so', () => {
  assert.is(byName(evaluate(ready()), 'NetworkPolicies').detail, 'enforced by Calico (DaemonSet kube-system/calico-node)');
  const open = byName(evaluate(ready({ networkPolicies: { enforces: false, why: 'no NetworkPolicy implementation runs' } })), 'NetworkPolicies');
  assert.not.ok(open.ok);
  assert.not.ok(open.blocks);
  assert.match(open.detail, /^not enforced: no NetworkPolicy implementation runs; redis-svc:6379 \(Redis has no password/);
  assert.match(open.fix!, 'minikube delete -p <profile>');
  assert.match(byName(evaluate(ready({ provider: 'kind', networkPolicies: { enforces: false, why: 'kindnet' } })), 'NetworkPolicies').fix!, 'v0.24.0');
  assert.match(byName(evaluate(ready({ provider: 'sandbox', networkPolicies: { enforces: false, why: 'x' } })), 'NetworkPolicies').fix!, 'kube-router enforces them on the real node by default');
  assert.is(byName(evaluate(ready({ networkPolicies: undefined })), 'NetworkPolicies').detail, 'not checked: the cluster could not be asked');
});

test('minikube missing blocks the minikube provider, with the install and the alternatives; not kind\'s', () => {
  const probe = ready({ tools: { minikube: {}, kind: { path: '/k', version: 'v0.30.0' }, helm: { path: '/h' }, dapr: {} }, cluster: { state: 'unchecked', reason: 'minikube is not installed' } });
  const tool = byName(evaluate(probe), 'minikube or kind');
  assert.not.ok(tool.ok);
  assert.ok(tool.blocks);
  assert.match(tool.detail, 'minikube not installed; kind v0.30.0; minikube is the cluster provider (the default for --env dev)');
  assert.match(tool.fix!, 'https://minikube.sigs.k8s.io/docs/start/');
  assert.match(tool.fix!, '--cluster sandbox');
  assert.is(exitCode(evaluate(probe)), 1);
  assert.ok(byName(evaluate({ ...probe, provider: 'kind', defaulted: false }), 'minikube or kind').ok);
});

test('neither helm nor dapr blocks when up would have to install Dapr, not when Dapr is there', () => {
  const tools = { minikube: { path: '/m' }, kind: {}, helm: {}, dapr: {} };
  const missing = evaluate(ready({ tools, dapr: { missing: 'namespace dapr-system', notReady: [] } }));
  assert.ok(byName(missing, 'helm or dapr').blocks);
  assert.match(byName(missing, 'Dapr control plane').detail, 'up cannot install it without helm or the Dapr CLI');
  assert.is(exitCode(missing), 1);
  const cold = evaluate(ready({ tools, cluster: { state: 'absent', reason: 'minikube profile todo does not exist' }, ingress: undefined, dapr: undefined }));
  assert.ok(byName(cold, 'helm or dapr').blocks, 'a cluster up will create has no Dapr');
  const installed = evaluate(ready({ tools }));
  assert.not.ok(byName(installed, 'helm or dapr').ok);
  assert.not.ok(byName(installed, 'helm or dapr').blocks);
  assert.is(exitCode(installed), 0);
});

test('the Dapr CLI alone is enough; Dapr missing then says up installs it with the CLI', () => {
  const lines = evaluate(ready({ tools: { minikube: { path: '/m' }, kind: {}, helm: {}, dapr: { path: '/d', version: '1.16.5' } }, dapr: { missing: 'namespace dapr-system', notReady: [] } }));
  assert.ok(byName(lines, 'helm or dapr').ok);
  assert.match(byName(lines, 'helm or dapr').detail, 'Dapr CLI 1.16.5');
  assert.match(byName(lines, 'Dapr control plane').detail, 'up installs Dapr 1.16.9 with the Dapr CLI');
  assert.is(exitCode(lines), 0);
});

test('a stopped minikube profile and a missing ingress controller are up\'s job, not blockers', () => {
  const lines = evaluate(ready({ cluster: { state: 'absent', reason: 'minikube profile todo is not running' }, ingress: undefined, dapr: undefined }));
  assert.match(byName(lines, 'Cluster (minikube)').detail, 'up starts it');
  assert.is(exitCode(lines), 0);
  const noIngress = evaluate(ready({ ingress: { controller: 'missing' } }));
  assert.not.ok(byName(noIngress, 'Ingress controller').blocks);
  assert.match(byName(noIngress, 'Ingress controller').detail, 'up installs ingress-nginx (the minikube addon)');
});

test('current: no ingress controller blocks with the install command; an unreachable context blocks', () => {
  const base = { provider: 'current' as const, defaulted: false, cluster: { state: 'reachable' as const, description: 'context x' } };
  const noIngress = evaluate(ready({ ...base, ingress: { controller: 'missing' } }));
  assert.ok(byName(noIngress, 'Ingress controller').blocks);
  assert.match(byName(noIngress, 'Ingress controller').fix!, 'helm upgrade --install ingress-nginx');
  assert.ok(byName(evaluate(ready({ ...base, ingress: { controller: 'missing', ingressClass: 'k8s.io/ingress-nginx' } })), 'Ingress controller').ok);
  const down = evaluate(ready({ ...base, cluster: { state: 'unreachable', error: 'Cannot reach the Kubernetes API server at https://x:6443' }, ingress: undefined, dapr: undefined }));
  assert.ok(byName(down, 'Cluster and context').blocks);
  assert.match(byName(down, 'Cluster and context').fix!, '--context or KUBECONFIG');
});

test('sandbox: Traefik is its controller on a real node; before up deploys it, nothing blocks', () => {
  const base = { provider: 'sandbox' as const, defaulted: false, cluster: { state: 'reachable' as const, description: 'sandbox control plane' } };
  const traefik = { name: 'Traefik', namespace: 'traefik' };
  assert.is(byName(evaluate(ready({ ...base, ingress: { controller: 'ready', ...traefik } })), 'Ingress controller').detail, 'Traefik available');
  const starting = byName(evaluate(ready({ ...base, ingress: { controller: 'not-ready', ...traefik } })), 'Ingress controller');
  assert.not.ok(starting.ok);
  assert.match(starting.fix!, 'kubectl -n traefik get pods');
  const missing = byName(evaluate(ready({ ...base, ingress: { controller: 'missing', ...traefik } })), 'Ingress controller');
  assert.not.ok(missing.blocks);
  assert.match(missing.detail, 'up deploys Traefik on the real node');
});

const simulatedPods = { mode: 'simulated' as const, why: 'no Docker engine answers (the images the node runs are built with it)', running: false, host: 'Linux, root, cgroup v1' };

test('sandbox: Docker and the cluster tools are not needed; unbuilt binaries block only without Go', () => {
  const base = { provider: 'sandbox' as const, defaulted: false, docker: { found: false, reachable: false }, tools: { minikube: {}, kind: {}, helm: {}, dapr: {} }, ingress: undefined, dapr: undefined, host: { domain: 'todo.local', resolves: false, serves: false, hostsFile: '/etc/hosts' } };
  const cold = evaluate(ready({ ...base, cluster: { state: 'absent', reason: 'the sandbox control plane is not running' }, sandbox: { built: true, go: false, binDir: '/b', pods: simulatedPods } }));
  assert.is(exitCode(cold), 0, JSON.stringify(cold.filter((l) => l.blocks)));
  assert.match(byName(cold, 'Docker').detail, 'not needed for --cluster sandbox');
  assert.ok(byName(cold, 'Host name').ok);
  const unbuilt = evaluate(ready({ ...base, cluster: { state: 'absent', reason: 'the sandbox control plane is not running' }, sandbox: { built: false, go: false, binDir: '/b', pods: simulatedPods } }));
  assert.ok(byName(unbuilt, 'Cluster (sandbox)').blocks);
  assert.match(byName(unbuilt, 'Cluster (sandbox)').fix!, 'npm run controlplane:build');
  const buildable = evaluate(ready({ ...base, cluster: { state: 'absent', reason: 'the sandbox control plane is not running' }, sandbox: { built: false, go: true, binDir: '/b', pods: simulatedPods } }));
  assert.not.ok(byName(buildable, 'Cluster (sandbox)').blocks);
});

test('sandbox pods: real where possible (Docker then needed), simulated with the reasons and how to get real ones, a refused request blocks', () => {
  const base = { provider: 'sandbox' as const, defaulted: false, tools: { minikube: {}, kind: {}, helm: {}, dapr: {} }, ingress: undefined, dapr: undefined, cluster: { state: 'absent' as const, reason: 'the sandbox control plane is not running' } };
  const real = evaluate(ready({ ...base, sandbox: { built: true, go: true, binDir: '/b', pods: { mode: 'real', why: 'Linux, root and cgroups are here', running: false, host: 'Linux, root, cgroup v1 (cpu, memory)' } } }));
  assert.ok(byName(real, 'Pods (sandbox)').ok);
  assert.match(byName(real, 'Pods (sandbox)').detail, 'up would run real pods on a kubelet and containerd in a network namespace (Linux, root, cgroup v1');
  assert.ok(byName(real, 'Docker').ok);
  const noDocker = evaluate(ready({ ...base, docker: { found: false, reachable: false }, sandbox: { built: true, go: true, binDir: '/b', pods: { mode: 'real', why: 'asked for with --pods real', running: true, host: 'h' } } }));
  assert.ok(byName(noDocker, 'Docker').blocks, 'real pods need Docker for their images');
  const simulated = evaluate(ready({ ...base, sandbox: { built: true, go: true, binDir: '/b', pods: { mode: 'simulated', why: 'not running as root (uid 1000): the node creates a network namespace, cgroups and mounts', running: false, host: '' } } }));
  const line = byName(simulated, 'Pods (sandbox)');
  assert.not.ok(line.ok);
  assert.not.ok(line.blocks);
  assert.match(line.detail, 'pods simulated by kwok, nothing serves traffic: not running as root (uid 1000)');
  assert.match(line.fix!, 'run as root on Linux with cgroups and a Docker engine');
  const asked = evaluate(ready({ ...base, sandbox: { built: true, go: true, binDir: '/b', pods: { mode: 'simulated', why: 'asked for with --pods simulated', running: false, host: '' } } }));
  assert.ok(byName(asked, 'Pods (sandbox)').ok);
  const refused = evaluate(ready({ ...base, sandbox: { built: true, go: true, binDir: '/b', pods: { refused: '--pods real: a real node cannot run here: this is darwin, not Linux' } } }));
  assert.ok(byName(refused, 'Pods (sandbox)').blocks);
  assert.is(exitCode(refused), 1);
  assert.not.ok(evaluate(ready()).some((l) => l.name === 'Pods (sandbox)'), 'only for the sandbox');
});

test('a domain that does not resolve to the ingress address: ✗ with the hosts line, not blocking', () => {
  const lines = evaluate(ready({ host: { domain: 'todo.local', address: '192.168.49.2', resolves: false, serves: true, hostsFile: '/etc/hosts' } }));
  const host = byName(lines, 'Host name');
  assert.not.ok(host.ok);
  assert.not.ok(host.blocks);
  assert.match(host.fix!, 'add `192.168.49.2 todo.local` to /etc/hosts (or run up with --write-hosts)');
});

test('Node older than 22 blocks; a configuration problem blocks with its message', () => {
  assert.ok(byName(evaluate(ready({ node: { version: '20.19.0' } })), 'Node.js').blocks);
  const config = byName(evaluate(ready({ configError: 'The dev configuration has 1 problem(s):\n  - env/dev.env REPLICAS: bad. Fix: set it.' })), 'Configuration');
  assert.ok(config.blocks);
  assert.match(config.detail, 'REPLICAS');
});

test('Docker installed but not answering blocks minikube with the start fix', () => {
  const docker = byName(evaluate(ready({ docker: { found: true, reachable: false, error: 'Cannot connect to the Docker daemon' } })), 'Docker');
  assert.ok(docker.blocks);
  assert.match(docker.detail, 'the daemon does not answer (Cannot connect to the Docker daemon)');
  assert.match(docker.fix!, 'start the Docker engine');
});

test('report: ✓/✗ per line, [blocks up] and Fix under a blocker, the verdict last', () => {
  const lines = evaluate(ready({ tools: { minikube: {}, kind: {}, helm: { path: '/h' }, dapr: {} }, cluster: { state: 'unchecked', reason: 'minikube is not installed' }, ingress: undefined, dapr: undefined }));
  const text = formatReport(lines, 'npm run up -- --env dev --cluster minikube');
  const rows = text.split('\n');
  assert.ok(rows[0]!.startsWith('✓ Node.js'));
  const tool = rows.findIndex((r) => r.startsWith('✗ minikube or kind'));
  assert.match(rows[tool]!, '[blocks up]');
  assert.match(rows[tool + 1]!, /^\s+Fix: install minikube/);
  assert.is(rows[rows.length - 1], '1 problem(s) block `npm run up -- --env dev --cluster minikube`: minikube or kind.');
  assert.is(formatReport(evaluate(ready()), 'x').split('\n').pop(), 'Nothing blocks `x`.');
});


test('sandbox Dapr: the Dapr built here on real pods, the stand-in on simulated ones, and a ready stand-in says it is not Dapr', () => {
  const base = { provider: 'sandbox' as const, daprVersion: '1.16.0', tools: { minikube: {}, kind: {}, helm: {}, dapr: {} } };
  const realPods = { mode: 'real' as const, why: 'Linux, root and cgroups are here', running: true, host: 'h' };
  const missingReal = evaluate(ready({ ...base, dapr: { missing: 'namespace dapr-system', notReady: [] }, sandbox: { built: true, go: true, binDir: '/b', pods: realPods } }));
  assert.match(byName(missingReal, 'Dapr control plane').detail, 'missing (namespace dapr-system): up installs Dapr 1.16.0 built here, with helm');
  assert.match(byName(missingReal, 'helm or dapr').detail, 'with real pods it builds helm from the Go module proxy');
  assert.not.ok(byName(missingReal, 'helm or dapr').blocks);
  const missingSimulated = evaluate(ready({ ...base, dapr: { missing: 'namespace dapr-system', notReady: [] }, sandbox: { built: true, go: true, binDir: '/b', pods: simulatedPods } }));
  assert.match(byName(missingSimulated, 'Dapr control plane').detail, "up creates the sandbox's stand-in");
  const standIn = byName(evaluate(ready({ ...base, dapr: { notReady: [], standIn: true } })), 'Dapr control plane');
  assert.ok(standIn.ok);
  assert.match(standIn.detail, "the sandbox's stand-in ready (workloads named like Dapr's; not Dapr, no sidecars)");
  const real = byName(evaluate(ready({ ...base, dapr: { notReady: [] } })), 'Dapr control plane');
  assert.ok(real.ok);
  assert.is(real.detail, 'operator, sidecar injector, sentry, placement and scheduler ready');
});

test.run();
