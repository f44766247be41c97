// A real Kubernetes node for the sandbox: containerd, the kubelet and kube-proxy, built here
// (lib/controlplane/build), running in a network namespace of their own (see layout.ts),
// with CoreDNS as the cluster DNS. The control plane (../index.ts) calls:
//
//   prepareRealNode   before the API server starts: the network it binds to, folders, the
//                     client certificate; returns the record a sweep needs
//   startRealNode     once the API server answers: containerd (pause and CoreDNS images
//                     imported), kubelet, kube-proxy; waits until the Node is Ready, puts the
//                     host's kernel settings back, starts kube-router's NetworkPolicy firewall
//                     when asked (policy-controller.ts), deploys CoreDNS and waits for it
//   sweepRealNode     after the processes are stopped (also from an exit hook or a later
//                     process): kills what runs in the pods' cgroup and the containerd shims,
//                     unmounts everything under the node's folder, removes the network
//                     namespace, restores the kernel settings and removes host paths it made
//
// Where a real node can run at all is judged in support.ts.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { clusterFromKubeConfig } from '../../kube/client.ts';
import { watchUntil } from '../../kube/watch.ts';
import type { KubeObject } from '../../types.ts';
import type { Component } from '../processes.ts';
import { logTail } from '../processes.ts';
import { absentPaths, containerdTasks, createCgroupRoot, hostMountPoints, isEmptyTree, killAll, mountsUnder, processesWith, processStartTime, readSysctls, removeCgroupRoot, removePath, restoreSysctls, shimSocketNames, unmountUnder } from './host.ts';
import { CGROUP_ROOT, DEFAULT_SHIM_SOCKET_DIR, HOST_PATHS, KUBELET_SYSCTLS, NETNS, NODE_NAME, type NodeLayout } from './layout.ts';
import { conflictingRoutes, createNetwork, destroyNetwork, inNetns, networkBefore, networkExists, type NetworkBefore } from './network.ts';
import { writePki } from './pki.ts';
import { judgeExistingNode, gatherNodeFacts, recoverAbandonedNode } from './recover.ts';
import { firstServiceAddress, waitForClusterDns } from './cluster-dns.ts';
import { SERVICE_CIDR } from '../config.ts';
import { containerdHostsToml, hostsDirName, isPlaneRegistry, type RegistryEndpoints } from '../registry.ts';
import { kubeRouterArgs, policyControllerRbac, policyState } from './policy-controller.ts';
import { containerdToml, cniConflist, corednsObjects, ctrArgs, kubeletArgs, kubeletConfig, kubeProxyArgs, kubeProxyConfig, toYaml } from './render.ts';

export { NODE_NAME } from './layout.ts';

/** What a sweep needs to put the host back, kept with the plane's state (JSON). */
export interface RealNodeRecord {
  /** The node's folder (<plane>/node): everything mounted under it is unmounted. */
  dir: string;
  netns: string;
  containerdConfig: string;
  containerdSocket: string;
  containerdState: string;
  cgroupRoot: string;
  /** The host's kernel settings before the kubelet started. */
  sysctls: Record<string, string>;
  /** Host paths that did not exist before the node (the kubelet and containerd create some regardless of their folders). */
  createdPaths: string[];
  network: NetworkBefore;
  /**
   * The process that started the node, with its start time (/proc/<pid>/stat), so a later
   * process can tell a node still being started from an abandoned one (recover.ts). Absent in
   * records written before.
   */
  starter?: { pid: number; startTime: string };
}

/** The node's programs and images, as lib/controlplane/versions.ts nodeArtifacts() gives them. */
export interface NodeBinaries {
  kubelet: string;
  kubeProxy: string;
  containerd: string;
  ctr: string;
  /** Put first on containerd's PATH: it finds containerd-shim-runc-v2 there. */
  containerdBinDir: string;
  cniBinDir: string;
  /** Absolute path of runc. */
  runc: string;
  /** kube-router, the NetworkPolicy controller (started only when policies are enforced). */
  kubeRouter: string;
  /** Traefik's is imported when `up` deploys it (lib/cluster/sandbox-ingress.ts), not at start. */
  images: { pause: { archive: string; ref: string }; coredns: { archive: string; ref: string }; traefik: { archive: string; ref: string } };
}

/** Starts a program of the node inside its network namespace (the control plane's process bookkeeping). */
export type StartInNetns = (name: string, argv: string[], env: NodeJS.ProcessEnv) => Component;

/**
 * Before the API server starts: removes an abandoned node (recover.ts), refuses when a node's
 * network is still there, records the host's state (<node folder>/record.json, written before
 * the network exists so that no moment has a network without a record), builds the network the
 * API server binds to, the pods' cgroup, the folders and the client certificate. On failure
 * everything done so far is swept.
 */
export function prepareRealNode(l: NodeLayout, log: (line: string) => void): RealNodeRecord {
  if (l.index > 0) return prepareFurtherNode(l, log);
  const recovery = recoverAbandonedNode(removePlaneDir);
  if (recovery.line) log(recovery.line);
  const existing = networkExists();
  if (existing) {
    const verdict = recovery.verdict.state === 'live' ? recovery.verdict : judgeExistingNode(gatherNodeFacts());
    const holders = verdict.state === 'live' ? `, held by ${verdict.holders.join(', ')}` : '';
    const left = recovery.left.length ? ` Removing it as abandoned left: ${recovery.left.join('; ')}.` : '';
    throw new Error(
      `Another real node's network is already on this machine (${existing}${holders}): only one sandbox with real pods runs at a time.${left} ` +
        'Fix: stop it with `npm run down -- --cluster sandbox --purge` (or `npm run controlplane -- stop`), or end the processes named.',
    );
  }
  const conflicts = conflictingRoutes();
  if (conflicts.length) {
    throw new Error(`The host already routes the ranges the real node needs: ${conflicts.join('; ')}. Fix: remove those routes, or use simulated pods (--pods simulated).`);
  }
  const record: RealNodeRecord = {
    dir: l.dir,
    netns: NETNS,
    containerdConfig: l.containerdConfig,
    containerdSocket: l.containerdSocket,
    containerdState: l.containerdState,
    cgroupRoot: CGROUP_ROOT,
    sysctls: readSysctls(KUBELET_SYSCTLS),
    createdPaths: absentPaths(HOST_PATHS),
    network: networkBefore(),
    starter: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
  };
  try {
    for (const d of [l.dir, l.shimSocketDir, l.containerdRoot, l.containerdState, l.cniConfDir, l.cniDataDir, l.kubeletRoot, l.podLogsDir, l.imagesDir]) mkdirSync(d, { recursive: true });
    writeFileSync(l.recordFile, JSON.stringify(record, null, 2));
    createNetwork();
    createCgroupRoot(CGROUP_ROOT);
    writePki(l);
  } catch (err) {
    sweepRealNode(record);
    throw err;
  }
  log(`real node: network namespace ${NETNS} with its veth pair, pods' cgroup /${CGROUP_ROOT}`);
  return record;
}

/**
 * A further node (index 1 or more), after the first one's network exists and before any kubelet
 * runs (so its record holds the host's kernel settings as they were): its record, its network
 * off the first node's namespace, its pods' cgroup and folders. The host-wide part (abandoned
 * nodes, /run/netns, the host paths, the client certificate) is the first node's. On failure
 * what was done for it is swept.
 */
function prepareFurtherNode(l: NodeLayout, log: (line: string) => void): RealNodeRecord {
  const existing = networkExists(l.netns);
  const conflicts = conflictingRoutes(l.index + 1).filter((r) => r.startsWith(`${l.linkSubnet} `));
  if (existing || conflicts.length) {
    throw new Error(
      `Real node ${l.name} cannot get its network: ${existing ? `${existing} is already on this machine` : `the host already routes ${conflicts.join('; ')}`}. ` +
        'Fix: stop the sandbox that has it (`npm run down -- --cluster sandbox --purge`), or remove that namespace or route.',
    );
  }
  const record: RealNodeRecord = {
    dir: l.dir,
    netns: l.netns,
    containerdConfig: l.containerdConfig,
    containerdSocket: l.containerdSocket,
    containerdState: l.containerdState,
    cgroupRoot: l.cgroupRoot,
    sysctls: readSysctls(KUBELET_SYSCTLS),
    createdPaths: [],
    network: { runNetnsExisted: true, runNetnsWasMount: true },
    starter: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
  };
  try {
    for (const d of [l.dir, l.shimSocketDir, l.containerdRoot, l.containerdState, l.cniConfDir, l.cniDataDir, l.kubeletRoot, l.podLogsDir, l.imagesDir]) mkdirSync(d, { recursive: true });
    writeFileSync(l.recordFile, JSON.stringify(record, null, 2));
    createNetwork(l);
    createCgroupRoot(l.cgroupRoot);
  } catch (err) {
    sweepRealNode(record);
    throw err;
  }
  log(`real node: network namespace ${l.netns} joined to ${NETNS} (veth ${l.upstreamVeth}, node ${l.address}, pods ${l.podCidr}), pods' cgroup /${l.cgroupRoot}`);
  return record;
}

/** The records of a plane's further nodes (<plane>/node-<n>/record.json), last node first: each is swept before the first node's. */
export function furtherNodeRecords(planeDir: string): RealNodeRecord[] {
  let entries: string[];
  try {
    entries = readdirSync(planeDir);
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^node-\d$/.test(e))
    .sort()
    .reverse()
    .flatMap((e) => {
      try {
        return [JSON.parse(readFileSync(join(planeDir, e, 'record.json'), 'utf8')) as RealNodeRecord];
      } catch {
        return [];
      }
    });
}

/**
 * Removes a plane's folder, after the real node's sweep (which unmounts everything under it:
 * a removal must never reach through a mount). Returns what was left behind.
 */
export function removePlaneDir(dir: string, node?: RealNodeRecord): string[] {
  // A registry left running by a killed plane (recover.ts counts it as no holder) goes first:
  // its store is in the folder.
  killAll(processesWith(`${join(dir, 'registry')}/`).filter((pid) => isPlaneRegistry(cmdlineOf(pid))));
  // Further nodes hang off the first one's namespace: they go first.
  const left = node ? [...furtherNodeRecords(dir).flatMap((r) => sweepRealNode(r)), ...sweepRealNode(node)] : [];
  const mounted = mountsUnder(hostMountPoints(), dir);
  if (mounted.length) return [...left, `${dir} kept: still mounted ${mounted.join(', ')}`];
  rmSync(dir, { recursive: true, force: true });
  return left;
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

function run(argv: string[]): { ok: boolean; output: string } {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Waits until `probe` succeeds, the component exits, or the deadline passes. */
async function waitFor(what: string, probe: () => boolean, component: Component, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  let exited: string | undefined;
  void component.exited.then((how) => (exited = how));
  while (!probe()) {
    if (exited) throw new Error(`${component.name} stopped before ${what} (${exited}). Last lines of ${component.logFile}:\n${logTail(component.logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${Math.round(deadlineMs / 1000)} s. Last lines of ${component.logFile}:\n${logTail(component.logFile)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Imports OCI or docker archives into the node's containerd (CRI namespace); throws with ctr's message. */
export function importImages(l: Pick<NodeLayout, 'containerdSocket'>, ctr: string, archives: string[]): void {
  for (const archive of archives) {
    const r = run([ctr, ...ctrArgs(l, 'images', 'import', archive)]);
    if (!r.ok) throw new Error(`Importing ${archive} into the real node's containerd failed: ${r.output}`);
  }
}

/** The image references containerd holds in the CRI namespace. */
export function nodeImages(l: Pick<NodeLayout, 'containerdSocket'>, ctr: string): string[] {
  const r = run([ctr, ...ctrArgs(l, 'images', 'list', '--quiet')]);
  if (!r.ok) throw new Error(`Listing the real node's images failed: ${r.output}`);
  return r.output.split('\n').map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('sha256:'));
}

const NODE_KIND = { apiVersion: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };
const DEPLOYMENT_KIND = { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true };

function nodeReady(node: KubeObject | undefined): boolean {
  const ready = (node?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
  const tainted = (node?.spec?.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/not-ready');
  return ready && !tainted;
}

async function applyAll(kc: KubeConfig, objects: KubeObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) {
    await api.patch(object as any, undefined, undefined, 'todo-deploy-sandbox', true, PatchStrategy.ServerSideApply);
  }
}

export interface StartRealNodeInput {
  layout: NodeLayout;
  record: RealNodeRecord;
  binaries: NodeBinaries;
  kc: KubeConfig;
  start: StartInNetns;
  /** Deadline of each wait. */
  deadlineMs: number;
  log: (line: string) => void;
  /** The sandbox's image registry: the node's containerd pulls its names from `nodes`. */
  registry?: RegistryEndpoints;
  /** Enforce NetworkPolicies: run kube-router's firewall with this kubeconfig (its own identity). */
  policyController?: { kubeconfig: string };
}

/** Starts containerd, the kubelet and kube-proxy; returns once the Node is Ready and CoreDNS answers. */
export async function startRealNode(input: StartRealNodeInput): Promise<void> {
  const { layout: l, binaries: b, log } = input;
  // A further node's programs are named for it (containerd-2, kubelet-2, ...): one log file each.
  const suffix = l.index > 0 ? `-${l.index + 1}` : '';
  writeFileSync(l.containerdConfig, containerdToml(l, { cniBinDir: b.cniBinDir, runc: b.runc, pauseImage: b.images.pause.ref }));
  if (input.registry?.nodes) {
    const hosts = join(l.registryHostsDir, hostsDirName(input.registry.push));
    mkdirSync(hosts, { recursive: true });
    writeFileSync(join(hosts, 'hosts.toml'), containerdHostsToml({ push: input.registry.push, nodes: input.registry.nodes }));
  }
  writeFileSync(`${l.cniConfDir}/10-todo-deploy.conflist`, `${JSON.stringify(cniConflist(l), null, 2)}\n`);
  writeFileSync(l.kubeletConfig, toYaml(kubeletConfig(l)));
  writeFileSync(l.kubeProxyConfig, toYaml(kubeProxyConfig(l)));
  const env = { ...process.env, PATH: `${b.containerdBinDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };

  const containerd = input.start(`containerd${suffix}`, inNetns([b.containerd, '--config', l.containerdConfig], l.netns), env);
  await waitFor('containerd answered on its socket', () => existsSync(l.containerdSocket) && run([b.ctr, ...ctrArgs(l, 'version')]).ok, containerd, input.deadlineMs);
  importImages(l, b.ctr, [b.images.pause.archive, b.images.coredns.archive]);
  const present = nodeImages(l, b.ctr);
  const missing = [b.images.pause.ref, b.images.coredns.ref].filter((ref) => !present.includes(ref));
  if (missing.length) throw new Error(`After the import the real node lacks ${missing.join(', ')} (it holds ${present.join(', ') || 'nothing'}). Fix: rebuild the images with \`bash lib/controlplane/build/build.sh --force\`.`);
  log(`real node${suffix && ` ${l.name}`}: containerd ready; imported ${b.images.pause.ref}, ${b.images.coredns.ref}`);

  const kubelet = input.start(`kubelet${suffix}`, inNetns([b.kubelet, ...kubeletArgs(l)], l.netns), env);
  const kubeProxy = input.start(`kube-proxy${suffix}`, inNetns([b.kubeProxy, ...kubeProxyArgs(l)], l.netns), env);
  const cluster = clusterFromKubeConfig(input.kc);
  const ended = Promise.race([kubelet.exited, kubeProxy.exited]).then((how) => {
    throw new Error(`${how} while the node registered. Last lines of its log:\n${logTail(how.startsWith('kubelet') ? kubelet.logFile : kubeProxy.logFile)}`);
  });
  // Every node also waits for its pods' range: the controller-manager allocates the index-th
  // /24 to the index-th node it sees, which the nodes starting one after the other makes this
  // one's (the range its bridge and the routes use). The first node waits too: its allocator
  // starts seconds after the controller-manager answers (3.5 s seen idle, more under load), and
  // a second node registered before the first had its range could be given the first's (the
  // allocator's workers take the two at once, in no set order): prod-path's start at 16:27 ended
  // right after the second node was Ready, in the range check below.
  const ready = watchUntil(cluster, { kind: NODE_KIND, name: l.name }, (items) => ({ done: nodeReady(items[0]) && !!items[0]?.spec?.podCIDR }), {
    deadline: Date.now() + input.deadlineMs,
    goal: `Node ${l.name} to register, be Ready and be given its pods' range`,
    explain: (items) => `conditions ${JSON.stringify(items[0]?.status?.conditions?.map((c: any) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`) ?? 'none: not registered')}, pods' range ${items[0]?.spec?.podCIDR ?? 'none yet (the controller-manager allocates it)'}. Last lines of ${kubelet.logFile}:\n${logTail(kubelet.logFile, 15)}`,
  });
  await Promise.race([ready, ended]);
  ended.catch(() => {});

  // The kubelet has set the host's kernel settings by now (before it reports Ready): put them back.
  const restored = restoreSysctls(input.record.sysctls);
  log(`real node: ${l.name} Ready${restored.length ? `; host kernel settings restored (${restored.join(', ')})` : ''}`);
  const allocated = (await ready)[0]?.spec?.podCIDR;
  if (allocated !== l.podCidr) throw new Error(`Node ${l.name} was given the pods' range ${allocated} by the controller-manager, but its bridge and routes use ${l.podCidr}: the nodes registered out of order. Fix: stop the sandbox (\`npm run controlplane -- stop\`) and start it again.`);
  // The cluster DNS is the first node's.
  if (l.index > 0) return;

  if (input.policyController) await startPolicyController(input, env);

  await applyAll(input.kc, corednsObjects(b.images.coredns.ref));
  await watchUntil(
    cluster,
    { kind: DEPLOYMENT_KIND, namespace: 'kube-system', name: 'coredns' },
    (items) => ({ done: (items[0]?.status?.availableReplicas ?? 0) >= 1 }),
    { deadline: Date.now() + input.deadlineMs, goal: 'CoreDNS (kube-system/coredns) to be available' },
  );
  // Available is not enough: pods reach CoreDNS through the kube-dns Service, which works only
  // once kube-proxy has synced its rules for it (cluster-dns.ts).
  const dns = await waitForClusterDns({
    expected: firstServiceAddress(SERVICE_CIDR),
    deadlineMs: input.deadlineMs,
    explain: () => `Last lines of ${kubeProxy.logFile}:\n${logTail(kubeProxy.logFile, 15)}`,
  });
  const before = dns.failed ? `; ${(dns.ms / 1000).toFixed(1)} s after it was available (${dns.failed} quer${dns.failed === 1 ? 'y' : 'ies'} failed first: ${dns.firstFailure})` : '';
  log(`real node: CoreDNS serves the cluster DNS: kubernetes.default answered through the kube-dns Service${before}`);
}

/**
 * kube-router's firewall, after the Node exists (it reads its address from it): its read-only
 * role first, then the process; ready once its top-level chains are in the namespace.
 */
async function startPolicyController(input: StartRealNodeInput, env: NodeJS.ProcessEnv): Promise<void> {
  await applyAll(input.kc, policyControllerRbac() as KubeObject[]);
  const c = input.start('kube-router', inNetns([input.binaries.kubeRouter, ...kubeRouterArgs(input.policyController!.kubeconfig)]), { ...env, NODE_NAME });
  await waitFor('kube-router installed its NetworkPolicy chains', () => policyState().chains.includes('KUBE-ROUTER-FORWARD'), c, input.deadlineMs);
  input.log('real node: kube-router enforces NetworkPolicies (iptables and ipsets in the node\'s namespace)');
}

/** containerd's default state folder, shared with any other containerd on the host (Docker's). */
const SHARED_RUN_DIR = '/run/containerd';

/**
 * Puts the host back after the node's processes were stopped: idempotent, synchronous, safe to
 * run twice or after a crash. Returns what could not be removed (empty when all is clean).
 */
export function sweepRealNode(record: RealNodeRecord): string[] {
  const left: string[] = [];
  // The shims keep containers running after containerd ends; kill them, then every process
  // in the pods' cgroup (nothing restarts them: the kubelet is stopped).
  killAll(processesWith('containerd-shim', record.containerdSocket));
  killAll(processesWith(record.containerdConfig));
  // kube-router (its kubeconfig lies in the node's folder); its rules and ipsets go with the namespace.
  killAll(processesWith('kube-router', `${record.dir}/`));
  left.push(...removeCgroupRoot(record.cgroupRoot).map((d) => `cgroup ${d}`));
  // A killed shim leaves its socket; in containerd's shared folder only ours are removed.
  for (const task of containerdTasks(record.containerdState)) {
    for (const name of shimSocketNames(record.containerdSocket, task.namespace, task.id)) removePath(join(DEFAULT_SHIM_SOCKET_DIR, name));
  }
  // Container root filesystems, pod volumes, pod network namespaces: all mounted under the
  // node's folder. Unmounted before anything is removed, so no removal reaches through a mount.
  left.push(...unmountUnder(record.dir).map((m) => `mount ${m}`));
  left.push(...destroyNetwork(record.network, record.netns));
  try {
    restoreSysctls(record.sysctls);
  } catch (err) {
    left.push(`kernel settings: ${(err as Error).message}`);
  }
  for (const path of record.createdPaths) {
    if (!existsSync(path)) continue;
    if (unmountUnder(path).length) {
      left.push(`mount under ${path}`);
      continue;
    }
    // Only the node makes the kubelet's and the CNI library's paths; Docker's containerd may
    // have put its own files in /run/containerd since: that one goes only when nothing is in it.
    if (path !== SHARED_RUN_DIR || isEmptyTree(path)) removePath(path);
  }
  return left;
}
