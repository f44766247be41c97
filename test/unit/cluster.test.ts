// The providers' pure parts: reading minikube's status, settings checks, the start arguments,
// kind's config and cluster list, the Dapr install choice and commands, the StatefulSet and
// admission-Job verdicts, and the sandbox's Dapr stand-in objects.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { minikubeSettings, minikubeStartArgs, parseMinikubeStatus } from '../../lib/cluster/minikube.ts';
import { kindClusterName, kindConfig, manifestObjects, parseKindClusters } from '../../lib/cluster/kind.ts';
import { chooseInstaller, daprInitArgs, daprVersion, describeMissing, helmCommands, installNeeded, provideNeeded, notReady, DAPR_WORKLOADS, type DaprProbe } from '../../lib/cluster/dapr.ts';
import { statefulSetVerdict } from '../../lib/kinds.ts';
import { admissionJobsVerdict } from '../../lib/cluster/ingress.ts';
import { daprStandInObjects, STAND_IN_LABEL } from '../../lib/cluster/dapr-stand-in.ts';
import { DAPR_VERSION, INGRESS_NGINX_KIND_MANIFEST, INGRESS_NGINX_VERSION } from '../../lib/cluster/versions.ts';
import { DeployError, UsageError } from '../../lib/errors.ts';
import type { ClusterContext } from '../../lib/cluster/provider.ts';
import type { KubeObject } from '../../lib/types.ts';

const throws = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
};

const ctxWith = (settings: Record<string, string>): ClusterContext => ({ environment: 'dev', settings, log: () => {}, redact: (s) => s });

// ---------------------------------------------------------------------------------------------
const minikube = suite('cluster: minikube (pure)');

minikube('status: all Running is running, with minikube\'s Kubeconfig field', () => {
  const s = parseMinikubeStatus('{"Name":"todo","Host":"Running","Kubelet":"Running","APIServer":"Running","Kubeconfig":"Configured","Worker":false}', '', 0);
  assert.equal(s.state, 'running');
  assert.is(s.kubeconfig, 'Configured');
});

minikube('status: a stopped host or apiserver is stopped (minikube exits non-zero)', () => {
  assert.is(parseMinikubeStatus('{"Name":"todo","Host":"Stopped","Kubelet":"Stopped","APIServer":"Stopped","Kubeconfig":"Stopped"}', '', 7).state, 'stopped');
  assert.is(parseMinikubeStatus('{"Name":"todo","Host":"Running","Kubelet":"Running","APIServer":"Stopped","Kubeconfig":"Configured"}', '', 2).state, 'stopped');
});

minikube('status: exit 85, a Nonexistent host or "not found" is absent', () => {
  assert.is(parseMinikubeStatus('', '🤷  Profile "todo" not found. Run "minikube profile list" to view all profiles.', 85).state, 'absent');
  assert.is(parseMinikubeStatus('{"Name":"todo","Host":"Nonexistent","Kubelet":"Nonexistent","APIServer":"Nonexistent"}', '', 7).state, 'absent');
});

minikube('status: a multi-node answer (an array) is judged by the first node', () => {
  const nodes = JSON.stringify([{ Name: 'todo', Host: 'Running', Kubelet: 'Running', APIServer: 'Running', Kubeconfig: 'Configured' }, { Name: 'todo-m02', Host: 'Stopped', Kubelet: 'Stopped', Worker: true }]);
  assert.is(parseMinikubeStatus(nodes, '', 0).state, 'running');
});

minikube('status: unreadable output is not running, and its first line is kept for messages', () => {
  const s = parseMinikubeStatus('', 'E1126 docker: Cannot connect to the Docker daemon\nmore', 1);
  assert.is(s.state, 'stopped');
  assert.is(s.detail, 'E1126 docker: Cannot connect to the Docker daemon');
});

minikube('settings: defaults todo, 2 CPUs, 4096 MB; the configured values are used', () => {
  assert.equal(minikubeSettings({}), { profile: 'todo', cpus: '2', memory: '4096' });
  assert.equal(minikubeSettings({ MINIKUBE_PROFILE: 'dev', MINIKUBE_CPUS: '4', MINIKUBE_MEMORY: '8g' }), { profile: 'dev', cpus: '4', memory: '8g' });
});

minikube('settings: every bad value reported at once as a usage error naming the setting', () => {
  const err = throws(() => minikubeSettings({ MINIKUBE_PROFILE: 'Bad_Name', MINIKUBE_CPUS: '1', MINIKUBE_MEMORY: 'lots' }));
  assert.instance(err, UsageError);
  assert.match(err.message, '3 problem(s)');
  for (const key of ['MINIKUBE_PROFILE "Bad_Name"', 'MINIKUBE_CPUS "1"', 'MINIKUBE_MEMORY "lots"']) assert.match(err.message, key);
});

minikube('start arguments: the profile, the docker driver, CPUs and memory', () => {
  assert.equal(minikubeStartArgs({ profile: 'todo', cpus: '3', memory: '6g' }), ['start', '-p', 'todo', '--driver=docker', '--cni=calico', '--cpus=3', '--memory=6g']);
});

minikube.run();

// ---------------------------------------------------------------------------------------------
const kind = suite('cluster: kind (pure)');

kind('config: one control-plane node labelled ingress-ready=true through kubeadm, ports 80 and 443 mapped', () => {
  const config = kindConfig() as any;
  assert.is(config.apiVersion, 'kind.x-k8s.io/v1alpha4');
  assert.equal(config.networking, { disableNetworkPolicies: false }, 'NetworkPolicies enforced (kind >= 0.24)');
  assert.is(config.nodes.length, 1);
  const [node] = config.nodes;
  assert.is(node.role, 'control-plane');
  const patch = parse(node.kubeadmConfigPatches[0]);
  assert.is(patch.kind, 'InitConfiguration');
  assert.is(patch.nodeRegistration.kubeletExtraArgs['node-labels'], 'ingress-ready=true');
  assert.equal(node.extraPortMappings, [
    { containerPort: 80, hostPort: 80, protocol: 'TCP' },
    { containerPort: 443, hostPort: 443, protocol: 'TCP' },
  ]);
});

kind('cluster list: one name per line; "No kind clusters found." is no cluster', () => {
  assert.equal(parseKindClusters('todo\nother\n'), ['todo', 'other']);
  assert.equal(parseKindClusters('No kind clusters found.\n'), []);
  assert.equal(parseKindClusters(''), []);
});

kind('cluster name: default todo, KIND_CLUSTER checked', () => {
  assert.is(kindClusterName({}), 'todo');
  assert.is(kindClusterName({ KIND_CLUSTER: 'ci' }), 'ci');
  assert.instance(throws(() => kindClusterName({ KIND_CLUSTER: 'Not OK' })), UsageError);
});

kind('the pinned ingress-nginx manifest is the controller release\'s kind manifest', () => {
  assert.match(INGRESS_NGINX_VERSION, /^\d+\.\d+\.\d+$/);
  assert.is(INGRESS_NGINX_KIND_MANIFEST, `https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v${INGRESS_NGINX_VERSION}/deploy/static/provider/kind/deploy.yaml`);
});

kind('manifest: documents in order, empty ones dropped; bad YAML names the source', () => {
  const objects = manifestObjects('apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n', 'x.yaml');
  assert.equal(objects.map((o) => o.kind), ['Namespace', 'ServiceAccount']);
  const err = throws(() => manifestObjects('a: [', 'http://example/deploy.yaml'));
  assert.instance(err, DeployError);
  assert.match(err.message, 'http://example/deploy.yaml is not valid YAML');
});

kind.run();

// ---------------------------------------------------------------------------------------------
const dapr = suite('cluster: Dapr step (pure)');

dapr('install choice: helm first, then the Dapr CLI, else none', () => {
  assert.is(chooseInstaller({ helm: true, dapr: true }), 'helm');
  assert.is(chooseInstaller({ helm: true, dapr: false }), 'helm');
  assert.is(chooseInstaller({ helm: false, dapr: true }), 'dapr');
  assert.is(chooseInstaller({ helm: false, dapr: false }), undefined);
});

dapr('helm: repo add, repo update, upgrade --install of the pinned chart into dapr-system, waiting, in our context', () => {
  assert.equal(helmCommands('1.16.9', 'kind-todo'), [
    ['repo', 'add', 'dapr', 'https://dapr.github.io/helm-charts/', '--force-update'],
    ['repo', 'update', 'dapr'],
    ['upgrade', '--install', 'dapr', 'dapr/dapr', '--version', '1.16.9', '--namespace', 'dapr-system', '--create-namespace', '--wait', '--timeout', '10m', '--kube-context', 'kind-todo'],
  ]);
  assert.equal(daprInitArgs('1.16.9'), ['init', '-k', '--runtime-version', '1.16.9', '--wait', '--timeout', '600']);
});

dapr('version: pinned by default, DAPR_VERSION overrides, anything but x.y.z is a usage error', () => {
  assert.is(daprVersion(ctxWith({})), DAPR_VERSION);
  assert.is(daprVersion(ctxWith({ DAPR_VERSION: '1.15.2' })), '1.15.2');
  assert.instance(throws(() => daprVersion(ctxWith({ DAPR_VERSION: 'latest' }))), UsageError);
});

const probe = (partial: Partial<DaprProbe>): DaprProbe => ({ missingCrds: [], namespace: true, workloads: [], ...partial });

dapr('install needed when a CRD or the namespace is missing; what is missing in words', () => {
  assert.not.ok(installNeeded(probe({})));
  assert.ok(installNeeded(probe({ missingCrds: ['components.dapr.io'] })));
  assert.ok(installNeeded(probe({ namespace: false })));
  assert.is(describeMissing(probe({ missingCrds: ['components.dapr.io', 'configurations.dapr.io'], namespace: false })), 'CRDs components.dapr.io, configurations.dapr.io; namespace dapr-system');
  assert.is(describeMissing(probe({ missingCrds: ['components.dapr.io'] })), 'CRD components.dapr.io');
});

dapr('a provider that supplies Dapr itself applies it again when any workload is missing (another up half-way through creating it), not only when CRDs or the namespace are', () => {
  const present = DAPR_WORKLOADS.map((workload) => ({ workload, object: { apiVersion: 'apps/v1', kind: workload.kind, metadata: { name: workload.name } } as KubeObject }));
  assert.not.ok(provideNeeded(probe({ workloads: present })), 'complete: nothing to apply');
  const half = present.map((w, i) => (i % 2 ? { workload: w.workload } : w));
  assert.ok(provideNeeded(probe({ workloads: half })), 'namespace and CRDs there, workloads half-created');
  assert.not.ok(installNeeded(probe({ workloads: half })), 'which an installer would not touch');
  assert.ok(provideNeeded(probe({ namespace: false })));
});

const sts = (status: Record<string, unknown>, generation = 1, replicas = 1): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'dapr-scheduler-server', generation },
  spec: { replicas },
  status,
});

dapr('StatefulSet verdict: every replica ready and updated at the observed generation', () => {
  assert.not.ok(statefulSetVerdict(undefined).done);
  assert.ok(statefulSetVerdict(sts({ observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, currentRevision: 'a', updateRevision: 'a' })).done);
  const notReadyYet = statefulSetVerdict(sts({ observedGeneration: 1, replicas: 3, readyReplicas: 2, updatedReplicas: 3 }, 1, 3));
  assert.not.ok(notReadyYet.done);
  assert.is(notReadyYet.progress, 'dapr-scheduler-server 2/3 ready');
  assert.not.ok(statefulSetVerdict(sts({ observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1 }, 2)).done, 'a new generation not yet observed');
  assert.not.ok(statefulSetVerdict(sts({ observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 0, currentRevision: 'a', updateRevision: 'b' })).done, 'a rollout in progress');
});

dapr('not ready: missing workloads and their progress', () => {
  const p = probe({ workloads: DAPR_WORKLOADS.map((workload) => ({ workload })) });
  assert.equal(notReady(p), DAPR_WORKLOADS.map((w) => `${w.name} missing`));
});

dapr('the sandbox stand-in: dapr-system and the five workloads named like Dapr\'s, each labelled a stand-in', () => {
  const objects = daprStandInObjects();
  assert.equal(objects.map((o) => `${o.kind}/${o.metadata.name}`), ['Namespace/dapr-system', ...DAPR_WORKLOADS.map((w) => `${w.kind}/${w.name}`)]);
  for (const o of objects) assert.is(o.metadata.labels?.[STAND_IN_LABEL], 'true');
  for (const o of objects.slice(1)) {
    assert.is(o.metadata.namespace, 'dapr-system');
    assert.equal(o.spec.selector.matchLabels, o.spec.template.metadata.labels);
  }
});

dapr.run();

// ---------------------------------------------------------------------------------------------
const ingress = suite('cluster: ingress admission Jobs (pure)');

const job = (name: string, status: Record<string, unknown>): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, status });

ingress('none, or all succeeded, is done; a pending one is waited for; a failed one fails', () => {
  assert.ok(admissionJobsVerdict([]).done);
  assert.ok(admissionJobsVerdict([job('create', { succeeded: 1 }), job('patch', { succeeded: 1 })]).done);
  const pending = admissionJobsVerdict([job('create', { succeeded: 1 }), job('patch', { active: 1 })]);
  assert.not.ok(pending.done);
  assert.match(pending.progress!, 'patch');
  const failed = admissionJobsVerdict([job('patch', { failed: 6, conditions: [{ type: 'Failed', status: 'True' }] })]);
  assert.match(failed.failed!, 'admission Job patch failed');
});

ingress.run();
