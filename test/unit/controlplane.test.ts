// The pure parts of the test control plane: the pinned versions and where their binaries
// live, the command lines and credentials files of each component, the kubeconfig, the kwok
// stages and nodes, and the Dapr CRD manifests. Nothing is started here.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  KWOK_NODE_SELECTOR,
  layoutFor,
  renderKubeconfig,
  schedulerArgs,
  tokenFileCsv,
  type Ports,
} from '../../lib/controlplane/config.ts';
import {
  binaryPath,
  binDirFor,
  binPathFor,
  buildScript,
  cacheRoot,
  daprArtifacts,
  groupDir,
  GROUP_NAMES,
  GROUPS,
  missingGroups,
  NODE_GROUPS,
  nodeArtifactProblems,
  nodeArtifacts,
  parseRuncVersion,
  parseVersionsEnv,
  readVersions,
  recipeLine,
  stampLines,
  type Group,
} from '../../lib/controlplane/versions.ts';
import { COREFILE } from '../../lib/controlplane/node/render.ts';
import { FAIL_AS_ANNOTATION, KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE, kwokNode, kwokStages, NEVER_READY_ANNOTATION } from '../../lib/controlplane/stages.ts';
import { childEnv } from '../../lib/controlplane/processes.ts';
import { hasAddress, isOurs } from '../../lib/controlplane/ingress-stand-in.ts';
import { readCrds } from '../../lib/controlplane/crds.ts';
import { DAPR_VERSION } from '../../lib/cluster/versions.ts';

const ports: Ports = { etcdClient: 40001, etcdPeer: 40002, apiserver: 40003, controllerManager: 40004, scheduler: 40005, kwok: 40006 };
const layout = layoutFor('/tmp/cp-x', ports);

/** The value of --name=value in args, or undefined. */
function flag(args: string[], name: string): string | undefined {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

const versions = suite('controlplane versions');

const PINS = 'K8S_VERSION=1.34.4\nETCD_VERSION=3.6.16\nKWOK_VERSION=0.8.0\nCONTAINERD_VERSION=2.4.2\nRUNC_VERSION=1.1.5\nCNI_PLUGINS_VERSION=1.10.0\nCOREDNS_VERSION=1.15.0\nPAUSE_VERSION=3.10.1\nKUBE_ROUTER_VERSION=2.1.0\nDAPR_VERSION=1.16.0\nTRAEFIK_VERSION=3.6.12\nDISTRIBUTION_VERSION=3.1.2\n';
const pinned = parseVersionsEnv(PINS);

versions('parses versions.env lines, ignoring comments and a leading v', () => {
  const v = parseVersionsEnv(`# pins\n${PINS.replace('ETCD_VERSION=3.6.16', '\nETCD_VERSION=v3.6.16')}OTHER=x\n`);
  assert.equal(v, { kubernetes: '1.34.4', etcd: '3.6.16', kwok: '0.8.0', containerd: '2.4.2', runc: '1.1.5', cniPlugins: '1.10.0', coredns: '1.15.0', pause: '3.10.1', kubeRouter: '2.1.0', dapr: '1.16.0', traefik: '3.6.12', distribution: '3.1.2' });
  assert.is(parseVersionsEnv(PINS.replace('PAUSE_VERSION=3.10.1', 'PAUSE_VERSION=3.9')).pause, '3.9');
});

versions('names the file and the key when a version is missing or malformed', () => {
  assert.throws(() => parseVersionsEnv(PINS.replace('KWOK_VERSION=0.8.0\n', ''), 'v.env'), /v\.env: KWOK_VERSION is missing/);
  assert.throws(() => parseVersionsEnv(PINS.replace('COREDNS_VERSION=1.15.0\n', ''), 'v.env'), /v\.env: COREDNS_VERSION is missing/);
  assert.throws(() => parseVersionsEnv(PINS.replace('TRAEFIK_VERSION=3.6.12\n', ''), 'v.env'), /v\.env: TRAEFIK_VERSION is missing/);
  assert.throws(() => parseVersionsEnv(PINS.replace('K8S_VERSION=1.34.4', 'K8S_VERSION=1.34'), 'v.env'), /v\.env: K8S_VERSION must be a release like 1\.2\.3, not '1\.34'/);
  assert.throws(() => parseVersionsEnv(PINS.replace('PAUSE_VERSION=3.10.1', 'PAUSE_VERSION=latest'), 'v.env'), /PAUSE_VERSION must be a release/);
});

versions('each group has a folder named for its version, under XDG_CACHE_HOME, else HOME/.cache', () => {
  assert.is(binDirFor(pinned, 'kubernetes', { XDG_CACHE_HOME: '/c' }, '/h'), '/c/todo-deploy/controlplane/kubernetes-1.34.4/bin');
  assert.is(binDirFor(pinned, 'etcd', { HOME: '/home/u' }, '/h'), '/home/u/.cache/todo-deploy/controlplane/etcd-3.6.16/bin');
  assert.is(binaryPath(pinned, 'containerd-shim-runc-v2', { XDG_CACHE_HOME: '/c' }), '/c/todo-deploy/controlplane/containerd-2.4.2/bin/containerd-shim-runc-v2');
  assert.is(binaryPath(pinned, 'kwok', { XDG_CACHE_HOME: '/c' }), '/c/todo-deploy/controlplane/kwok-0.8.0/bin/kwok');
  assert.is(cacheRoot({ XDG_CACHE_HOME: '', HOME: '/r' }, '/h'), '/r/.cache/todo-deploy/controlplane');
  // A new Kubernetes release moves only the groups built from it.
  const next = { ...pinned, kubernetes: '1.34.5' };
  const moved = GROUP_NAMES.filter((g) => groupDir(next, g, { XDG_CACHE_HOME: '/c' }) !== groupDir(pinned, g, { XDG_CACHE_HOME: '/c' }) || stampLines(next, g).join() !== stampLines(pinned, g).join());
  assert.equal(moved, ['kubernetes', 'pause']);
});

versions('the build script and this module agree on every folder, stamp, output and recipe, and on the PATH folders', () => {
  const env = { ...process.env, XDG_CACHE_HOME: '/tmp/xdg-cache-probe' };
  const fromScript = execFileSync('bash', [buildScript, '--print-bin-dir'], { env, encoding: 'utf8' }).trim();
  const v = readVersions();
  assert.is(fromScript, binPathFor(v, env));
  assert.ok(fromScript.split(':').includes(binDirFor(v, 'kubernetes', env)));
  const layout = execFileSync('bash', [buildScript, '--print-layout'], { env, encoding: 'utf8' }).trim().split('\n').map((l) => l.split('\t'));
  assert.equal(layout.map(([g]) => g).sort(), [...GROUP_NAMES].sort());
  for (const [group, dir, stamp, outputs, recipe] of layout) {
    const g = group as Group;
    assert.is(dir, groupDir(v, g, env), group);
    assert.is(`RECIPE=${recipe}`, recipeLine(g), group);
    assert.equal(stamp.split(' '), stampLines(v, g), group);
    assert.equal(outputs.split(' ').sort(), [...GROUPS[g].binaries.map((b) => `bin/${b}`), ...GROUPS[g].images, ...GROUPS[g].files].sort(), group);
  }
});

versions('a plain build.sh (what the test command runs) neither builds nor checks the dapr group; naming it does', () => {
  const env = { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'todo-deploy-versions-')) };
  try {
    const check = (...groups: string[]) => {
      try {
        return execFileSync('bash', [buildScript, '--check', ...groups], { env, encoding: 'utf8' });
      } catch (err) {
        return String((err as { stdout?: string }).stdout);
      }
    };
    const plain = check();
    assert.match(plain, /kubernetes 1\.34\.4: missing or stale/);
    assert.not.match(plain, /dapr/);
    assert.match(check('dapr'), /dapr 1\.16\.0: missing or stale/);
  } finally {
    rmSync(env.XDG_CACHE_HOME, { recursive: true, force: true });
  }
});

versions('the Dapr release up installs into other clusters is the one built here (lib/cluster/versions.ts and versions.env agree)', () => {
  assert.is(DAPR_VERSION, readVersions().dapr);
});

versions('daprArtifacts: one image per Dapr program, named as the chart composes <registry>/<program>:<tag>, and the chart folder', () => {
  const a = daprArtifacts(pinned, { XDG_CACHE_HOME: '/c' });
  const dir = '/c/todo-deploy/controlplane/dapr-1.16.0';
  assert.equal(Object.keys(a.images).sort(), ['daprd', 'injector', 'operator', 'placement', 'scheduler', 'sentry']);
  assert.equal(a.images.daprd, { archive: `${dir}/dapr-daprd.oci.tar`, ref: 'todo-deploy.local/dapr/daprd:1.16.0' });
  for (const [program, image] of Object.entries(a.images)) assert.is(image.ref, `${a.registry}/${program}:${a.tag}`);
  assert.is(a.chartDir, `${dir}/chart/dapr`);
  assert.equal(stampLines(pinned, 'dapr'), ['DAPR_VERSION=1.16.0']);
});

versions('nodeArtifacts: every node program and image archive by absolute path, with the image refs', () => {
  const a = nodeArtifacts(pinned, { XDG_CACHE_HOME: '/c' });
  const root = '/c/todo-deploy/controlplane';
  assert.is(a.kubelet, `${root}/kubernetes-1.34.4/bin/kubelet`);
  assert.is(a.kubeProxy, `${root}/kubernetes-1.34.4/bin/kube-proxy`);
  assert.is(a.ctr, `${root}/containerd-2.4.2/bin/ctr`);
  assert.is(a.containerdBinDir, `${root}/containerd-2.4.2/bin`);
  assert.is(a.cniBinDir, `${root}/cni-plugins-1.10.0/bin`);
  assert.is(a.cniPlugins.hostLocal, `${root}/cni-plugins-1.10.0/bin/host-local`);
  assert.is(a.coredns, `${root}/coredns-1.15.0/bin/coredns`);
  assert.equal(a.images.pause, { archive: `${root}/pause-3.10.1/pause.oci.tar`, ref: 'registry.k8s.io/pause:3.10.1' });
  assert.equal(a.images.coredns, { archive: `${root}/coredns-1.15.0/coredns.oci.tar`, ref: 'registry.k8s.io/coredns/coredns:v1.15.0' });
  assert.equal(a.images.traefik, { archive: `${root}/traefik-3.6.12/traefik.oci.tar`, ref: 'docker.io/library/traefik:v3.6.12' });
  assert.equal(a.runc.version, '1.1.5');
});

versions("CoreDNS is built with exactly the plugins the node's Corefile uses", () => {
  // The Corefile's directives: the first word of each line one level inside the server block.
  const used = [...COREFILE.matchAll(/^ {4}([a-z0-9_]+)/gm)].map((m) => m[1]).sort();
  assert.ok(used.includes('kubernetes') && used.includes('cache'), used.join());
  const main = readFileSync(join(dirname(buildScript), 'coredns', 'main.go'), 'utf8');
  const imported = [...main.matchAll(/^\s*_ "github\.com\/coredns\/coredns\/plugin\/([a-z0-9_]+)"/gm)].map((m) => m[1]).sort();
  const listed = JSON.parse(`[${/var plugins = \[\]string\{([^}]*)\}/.exec(main)![1]}]`) as string[];
  assert.equal(imported, used, 'the plugin packages main.go imports');
  assert.equal([...listed].sort(), used, "main.go's plugins list");
  // No import pulls in upstream's whole plugin set.
  assert.not.match(main, /coredns\/core\/plugin"/);
});

versions('runc --version is read as a release', () => {
  assert.is(parseRuncVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n'), '1.1.5');
  assert.is(parseRuncVersion('runc version v1.2.0\n'), '1.2.0');
  assert.is(parseRuncVersion('bash: runc: command not found'), undefined);
});

versions('node problems: each unbuilt or stale group and a missing or different runc, with the fix', () => {
  const cache = mkdtempSync(join(tmpdir(), 'todo-deploy-versions-'));
  try {
    const env = { XDG_CACHE_HOME: cache };
    const runc = 'runc version 1.1.5+ds1\n';
    const all = nodeArtifactProblems(pinned, runc, env);
    assert.equal(all.map((p) => p.split(':')[0]), [...NODE_GROUPS]);
    assert.match(all[0], /build it: bash lib\/controlplane\/build\/build.sh node/);
    // A group is current when its outputs exist and its stamp names the pinned versions.
    for (const g of NODE_GROUPS) {
      const dir = groupDir(pinned, g, env);
      mkdirSync(join(dir, 'bin'), { recursive: true });
      for (const f of [...GROUPS[g].binaries.map((b) => join('bin', b)), ...GROUPS[g].images]) writeFileSync(join(dir, f), '');
      writeFileSync(join(dir, 'complete'), [recipeLine(g), ...stampLines(pinned, g)].join('\n') + '\n');
    }
    assert.equal(nodeArtifactProblems(pinned, runc, env), []);
    assert.equal(missingGroups(pinned, NODE_GROUPS, env), []);
    // A build by an older recipe (CoreDNS with every upstream plugin, recipe 1) is stale.
    writeFileSync(join(groupDir(pinned, 'coredns', env), 'complete'), ['RECIPE=1', ...stampLines(pinned, 'coredns')].join('\n') + '\n');
    assert.equal(missingGroups(pinned, NODE_GROUPS, env), ['coredns']);
    assert.match(nodeArtifactProblems(pinned, runc, env).join(), /^coredns: .* is not a finished build of COREDNS_VERSION=1\.15\.0 by the current recipe \(RECIPE=2\)/);
    writeFileSync(join(groupDir(pinned, 'coredns', env), 'complete'), [recipeLine('coredns'), ...stampLines(pinned, 'coredns')].join('\n') + '\n');
    // pause.c comes with Kubernetes: another Kubernetes release makes the pause build stale.
    assert.equal(missingGroups({ ...pinned, kubernetes: '1.34.5' }, ['pause'], env), ['pause']);
    rmSync(join(groupDir(pinned, 'containerd', env), 'bin', 'ctr'));
    assert.equal(nodeArtifactProblems(pinned, runc, env), [`containerd: bin/ctr missing in ${groupDir(pinned, 'containerd', env)} (build it: bash lib/controlplane/build/build.sh node)`]);
    writeFileSync(join(groupDir(pinned, 'containerd', env), 'bin', 'ctr'), '');
    assert.match(nodeArtifactProblems(pinned, undefined, env).join(), /runc is not on PATH; the node needs runc 1\.1\.5: apt-get install runc/);
    assert.match(nodeArtifactProblems(pinned, 'runc version 1.2.0\n', env).join(), /runc on PATH is 1\.2\.0, but lib\/controlplane\/build\/versions\.env pins RUNC_VERSION=1\.1\.5/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

versions.run();

const args = suite('controlplane command lines');

args('etcd listens on loopback only, on its two ports, without fsync', () => {
  const a = etcdArgs(layout);
  assert.is(flag(a, 'listen-client-urls'), 'http://127.0.0.1:40001');
  assert.is(flag(a, 'listen-peer-urls'), 'http://127.0.0.1:40002');
  assert.is(flag(a, 'initial-cluster'), 'todo-deploy=http://127.0.0.1:40002');
  assert.is(flag(a, 'data-dir'), '/tmp/cp-x/etcd');
  assert.is(flag(a, 'unsafe-no-fsync'), 'true');
});

args('kube-apiserver: loopback, RBAC+Node, service-account keys, tokens, its etcd', () => {
  const a = apiserverArgs(layout);
  assert.is(flag(a, 'etcd-servers'), 'http://127.0.0.1:40001');
  assert.is(flag(a, 'bind-address'), '127.0.0.1');
  assert.is(flag(a, 'secure-port'), '40003');
  assert.is(flag(a, 'authorization-mode'), 'Node,RBAC');
  assert.is(flag(a, 'service-account-key-file'), layout.saPublicKey);
  assert.is(flag(a, 'service-account-signing-key-file'), layout.saPrivateKey);
  assert.ok(flag(a, 'service-account-issuer')?.startsWith('https://'));
  assert.is(flag(a, 'token-auth-file'), layout.tokenFile);
  assert.is(flag(a, 'service-cluster-ip-range'), '10.96.0.0/16');
  assert.is(flag(a, 'kubelet-preferred-address-types'), 'InternalIP');
});

args('kube-controller-manager runs every controller with per-controller service accounts', () => {
  const a = controllerManagerArgs(layout);
  assert.is(flag(a, 'controllers'), '*');
  assert.is(flag(a, 'use-service-account-credentials'), 'true');
  assert.is(flag(a, 'service-account-private-key-file'), layout.saPrivateKey);
  assert.is(flag(a, 'root-ca-file'), layout.caFile);
  assert.is(flag(a, 'kubeconfig'), layout.kubeconfigs.controllerManager);
  assert.is(flag(a, 'secure-port'), '40004');
  assert.is(flag(a, 'bind-address'), '127.0.0.1');
  assert.is(flag(a, 'leader-elect'), 'false');
});

args('kube-scheduler uses its own kubeconfig and port', () => {
  const a = schedulerArgs(layout);
  assert.is(flag(a, 'kubeconfig'), layout.kubeconfigs.scheduler);
  assert.is(flag(a, 'authentication-kubeconfig'), layout.kubeconfigs.scheduler);
  assert.is(flag(a, 'secure-port'), '40005');
  assert.is(flag(a, 'bind-address'), '127.0.0.1');
});

args('kwok manages only annotated nodes, serves on loopback and reports a loopback node IP', () => {
  const a = kwokArgs(layout);
  assert.is(flag(a, 'manage-all-nodes'), 'false');
  assert.is(flag(a, 'manage-nodes-with-annotation-selector'), KWOK_NODE_SELECTOR);
  assert.is(flag(a, 'server-address'), '127.0.0.1:40006');
  assert.is(flag(a, 'node-ip'), '127.0.0.1');
  assert.is(flag(a, 'config'), layout.kwokConfig);
  assert.is(flag(a, 'kubeconfig'), layout.kubeconfigs.kwok);
});

args('every port appears in exactly the command line that owns it', () => {
  const all = [etcdArgs, apiserverArgs, controllerManagerArgs, schedulerArgs, kwokArgs].map((f) => f(layout).join(' '));
  for (const port of Object.values(ports)) {
    const owners = all.filter((line) => line.includes(String(port)));
    // The etcd client port is also the API server's store.
    assert.is(owners.length, port === ports.etcdClient ? 2 : 1, `port ${port}`);
  }
});

args('the token file lists each identity with its groups, as kube-apiserver reads it', () => {
  const csv = tokenFileCsv({ admin: 'a1', controllerManager: 'c2', scheduler: 's3', kwok: 'k4' });
  assert.equal(csv.trimEnd().split('\n'), [
    'a1,todo-deploy-admin,todo-deploy-admin,"system:masters"',
    'c2,system:kube-controller-manager,system:kube-controller-manager',
    's3,system:kube-scheduler,system:kube-scheduler',
    'k4,kwok-controller,kwok-controller,"system:masters"',
  ]);
});

args('the kubeconfig loads in client-node with server, token and embedded CA', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const text = renderKubeconfig({ server: 'https://127.0.0.1:40003', caPem: pem, user: 'u', token: 't0k' });
  const kc = new KubeConfig();
  kc.loadFromString(text);
  assert.is(kc.getCurrentCluster()?.server, 'https://127.0.0.1:40003');
  assert.is(Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString(), pem);
  assert.is(kc.getCurrentUser()?.token, 't0k');
  assert.is(parse(text)['current-context'], kc.getCurrentContext());
});

args('children do not inherit KUBECONFIG or proxies', () => {
  const env = childEnv({ KUBECONFIG: '/x', HTTPS_PROXY: 'http://p', http_proxy: 'http://p', PATH: '/bin', ETCD_NAME: 'n' });
  assert.equal(env, { PATH: '/bin', NO_PROXY: '127.0.0.1,localhost' });
});

args.run();

const stages = suite('controlplane kwok stages and nodes');

const byName = new Map(kwokStages().map((s) => [s.metadata.name, s]));
const exprs = (name: string) => byName.get(name)!.spec.selector.matchExpressions as { key: string; operator: string; values?: string[] }[];

stages('there is a stage for each step of a node and a pod', () => {
  assert.equal([...byName.keys()].sort(), ['node-heartbeat', 'node-initialize', 'pod-complete', 'pod-crash-loop', 'pod-delete', 'pod-image-pull-backoff', 'pod-oom-killed', 'pod-ready', 'pod-running']);
  for (const s of byName.values()) {
    assert.is(s.apiVersion, 'kwok.x-k8s.io/v1alpha1');
    assert.is(s.kind, 'Stage');
    assert.ok(s.spec.next, `${s.metadata.name} has a next step`);
  }
});

stages('a pod starts only once scheduled and pending, and not while terminating', () => {
  const e = exprs('pod-running');
  assert.ok(e.some((x) => x.key === '.spec.nodeName' && x.operator === 'Exists'));
  assert.ok(e.some((x) => x.key === '.status.phase' && x.operator === 'In' && x.values?.join() === 'Pending'));
  assert.ok(e.some((x) => x.key === '.metadata.deletionTimestamp' && x.operator === 'DoesNotExist'));
  const tpl = byName.get('pod-running')!.spec.next.statusTemplate as string;
  assert.match(tpl, /phase: Running/);
  assert.match(tpl, /type: Ready\n\s+status: "False"\n\s+reason: ContainersNotReady/);
});

stages('a pod annotated fail-as shows the failure a kubelet reports, with a warning event, and never turns ready', () => {
  const onAnnotation = (name: string) => exprs(name).find((x) => x.key.includes(FAIL_AS_ANNOTATION));
  assert.equal(onAnnotation('pod-image-pull-backoff'), { key: `.metadata.annotations["${FAIL_AS_ANNOTATION}"]`, operator: 'In', values: ['ImagePullBackOff'] });
  assert.equal(onAnnotation('pod-running')?.operator, 'NotIn', 'an image that is not there never starts');
  assert.equal(onAnnotation('pod-ready')?.values, ['ImagePullBackOff', 'CrashLoopBackOff', 'OOMKilled']);
  assert.match(byName.get('pod-image-pull-backoff')!.spec.next.statusTemplate, /phase: Pending[\s\S]*reason: ImagePullBackOff/);
  assert.match(byName.get('pod-crash-loop')!.spec.next.statusTemplate, /reason: CrashLoopBackOff[\s\S]*lastState:\n\s+terminated:\n\s+exitCode: 1\n\s+reason: Error/);
  assert.match(byName.get('pod-oom-killed')!.spec.next.statusTemplate, /restartCount: 2[\s\S]*exitCode: 137\n\s+reason: OOMKilled/);
  for (const name of ['pod-image-pull-backoff', 'pod-crash-loop', 'pod-oom-killed']) assert.is(byName.get(name)!.spec.next.event.type, 'Warning');
  // Applied once: the stage stops matching as soon as its status is there.
  assert.ok(exprs('pod-crash-loop').some((x) => x.key.endsWith('.state.waiting.reason') && x.operator === 'NotIn'));
});

stages('a running pod turns ready unless annotated never-ready, after its readiness delay', () => {
  const e = exprs('pod-ready');
  assert.ok(e.some((x) => x.key === '.status.phase' && x.values?.join() === 'Running'));
  const never = e.find((x) => x.key.includes(NEVER_READY_ANNOTATION));
  assert.equal(never, { key: `.metadata.annotations["${NEVER_READY_ANNOTATION}"]`, operator: 'NotIn', values: ['true'] });
  const delay = byName.get('pod-ready')!.spec.delay;
  assert.match(delay.durationFrom.jq.expression, /readinessProbe\.initialDelaySeconds/);
  assert.match(byName.get('pod-ready')!.spec.next.statusTemplate, /type: Ready\n\s+status: "True"/);
});

stages('terminating pods are deleted; only Job pods complete', () => {
  assert.equal(exprs('pod-delete'), [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }]);
  assert.is(byName.get('pod-delete')!.spec.next.delete, true);
  assert.ok(exprs('pod-complete').some((x) => x.key === '.metadata.ownerReferences.[].kind' && x.values?.join() === 'Job'));
});

stages('a node is annotated for kwok and registers its capacity as allocatable', () => {
  const node = kwokNode({ name: 'n1', cpu: '4', memory: '8Gi', pods: '20' });
  assert.is(node.metadata.name, 'n1');
  assert.is(node.metadata.annotations![KWOK_NODE_ANNOTATION], KWOK_NODE_ANNOTATION_VALUE);
  assert.is(`${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`, KWOK_NODE_SELECTOR);
  assert.is(node.metadata.labels!['kubernetes.io/hostname'], 'n1');
  assert.equal(node.status.allocatable, { cpu: '4', memory: '8Gi', pods: '20' });
  assert.equal(node.status.capacity, node.status.allocatable);
  assert.not.ok(node.spec.taints, 'no taint: workloads schedule without tolerations');
});

stages.run();

const ingress = suite('controlplane ingress stand-in rules');

ingress('serves its class, the legacy annotation, and class-less Ingresses only when default', () => {
  const ing = (cls?: string, annotation?: string) => ({
    metadata: { name: 'i', namespace: 'n', annotations: annotation ? { 'kubernetes.io/ingress.class': annotation } : undefined },
    spec: cls ? { ingressClassName: cls } : {},
  });
  assert.ok(isOurs(ing('nginx'), 'nginx', false));
  assert.not.ok(isOurs(ing('traefik'), 'nginx', true));
  assert.ok(isOurs(ing(undefined, 'nginx'), 'nginx', false));
  assert.ok(isOurs(ing(), 'nginx', true));
  assert.not.ok(isOurs(ing(), 'nginx', false));
});

ingress('an address is published once', () => {
  assert.not.ok(hasAddress({}, '127.0.0.1'));
  assert.ok(hasAddress({ status: { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } } }, '127.0.0.1'));
  assert.not.ok(hasAddress({ status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } } }, '127.0.0.1'));
});

ingress.run();

const crds = suite('Dapr CRD manifests');

/** The API server's structural-schema rule, as far as these CRDs use it: every node is typed or explicitly free-form. */
function untyped(schema: any, path: string, out: string[]): string[] {
  if (!schema.type && !schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-int-or-string']) out.push(path);
  for (const [k, v] of Object.entries(schema.properties ?? {})) untyped(v, `${path}.${k}`, out);
  if (schema.items) untyped(schema.items, `${path}[]`, out);
  if (typeof schema.additionalProperties === 'object') untyped(schema.additionalProperties, `${path}{}`, out);
  return out;
}

const all = new Map(readCrds().map((c) => [c.metadata.name, c]));

crds('both Dapr CRDs are there, namespaced, dapr.io/v1alpha1, structural', () => {
  assert.equal([...all.keys()].sort(), ['components.dapr.io', 'configurations.dapr.io']);
  for (const crd of all.values()) {
    assert.is(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.is(crd.spec.group, 'dapr.io');
    assert.is(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.versions.map((v: any) => [v.name, v.served, v.storage]), [['v1alpha1', true, true]]);
    assert.equal(untyped(crd.spec.versions[0].schema.openAPIV3Schema, crd.metadata.name, []), []);
  }
});

crds('Component: type and version required; metadata items take a value or a secretKeyRef; scopes and auth at the top', () => {
  const s = all.get('components.dapr.io')!.spec.versions[0].schema.openAPIV3Schema;
  assert.equal(s.properties.spec.required, ['type', 'version']);
  const item = s.properties.spec.properties.metadata.items;
  assert.equal(item.required, ['name']);
  assert.equal(item.properties.secretKeyRef.properties.name.type, 'string');
  assert.equal(item.properties.secretKeyRef.properties.key.type, 'string');
  assert.is(s.properties.scopes.items.type, 'string');
  assert.is(s.properties.auth.properties.secretStore.type, 'string');
  assert.is(s.properties.spec.properties.initTimeout.type, 'string');
  assert.is(s.properties.spec.properties.ignoreErrors.type, 'boolean');
  assert.ok(new RegExp(s.properties.spec.properties.type.pattern).test('state.postgresql'));
  assert.not.ok(new RegExp(s.properties.spec.properties.type.pattern).test('postgres'));
});

crds('Configuration: mtls, tracing and metric are typed', () => {
  const spec = all.get('configurations.dapr.io')!.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
  assert.is(spec.mtls.properties.enabled.type, 'boolean');
  const ttl = new RegExp(spec.mtls.properties.workloadCertTTL.pattern);
  assert.ok(ttl.test('24h') && ttl.test('1h30m') && !ttl.test('24 hours'));
  assert.ok(new RegExp(spec.mtls.properties.allowedClockSkew.pattern).test('15m'));
  assert.is(spec.tracing.properties.samplingRate.type, 'string');
  assert.is(spec.metric.properties.enabled.type, 'boolean');
  assert.equal(spec.metrics, spec.metric);
});

crds.run();
