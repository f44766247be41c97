// A real Kubernetes control plane on 127.0.0.1 for tests and local use: etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler from upstream, and kwok in
// place of kubelets, all from the binaries that lib/controlplane/build/build.sh builds.
//
//   const plane = await startControlPlane();
//   process.env.KUBECONFIG = plane.kubeconfig;   // admin (system:masters) credentials
//   ...
//   await plane.stop();                          // ends every process, removes the folder
//
// Everything lives in a fresh temporary folder with free ports. If the process that
// started the plane ends without stop() (exception, signal, even SIGKILL), the plane is
// torn down anyway: by exit/signal hooks, and by a reaper process that notices our end.

import { freePort } from '../free-port.ts';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  identitiesFor,
  kubeletUser,
  kwokArgs,
  layoutFor,
  PORT_NAMES,
  renderKubeconfig,
  schedulerArgs,
  tokenFileCsv,
  USERS,
  type Identity,
  type Layout,
  type PodMode,
  type Ports,
} from './config.ts';
import { nodeBinaries, nodeBinaryProblems } from './node/binaries.ts';
import { MAX_REAL_NODES, NODE_NAME } from './node/layout.ts';
import { prepareRealNode, removePlaneDir, startRealNode, type RealNodeRecord } from './node/index.ts';
import { policyControllerProblems } from './node/policy-controller.ts';
import { sweepCommand } from './node/sweep.ts';
import { realNodeSupport } from './node/support.ts';
import { registryConfig, registryEndpoints, registryEnv, registryLayoutFor, registryApiUrl, type RegistryEndpoints } from './registry.ts';
import { installCrds, readCrds } from './crds.ts';
import { get, healthFromArgs, waitForHealthy } from './health.ts';
import { startIngressStandIn, type IngressStandIn } from './ingress-stand-in.ts';
import { childEnv, startComponent, startReaper, stopComponent, TEARDOWN_GRACE_MS, type Component, type Reaper } from './processes.ts';
import { DEFAULT_NODES, kwokNode, kwokStages, type NodeSpec } from './stages.ts';
import { binaryPath, cacheRoot, checkBinaries, describeVersions, groupProblems, readVersions, REGISTRY_GROUPS, type Binary, type ControlPlaneVersions } from './versions.ts';
import { REPO_ROOT } from '../repo-root.ts';
import { clusterFromKubeConfig } from '../kube/client.ts';
import { watchUntil } from '../kube/watch.ts';
import { KINDS } from '../kinds.ts';
import type { KubeObject } from '../types.ts';

export { NEVER_READY_ANNOTATION, FAIL_AS_ANNOTATION, FAILURES, KWOK_NODE_ANNOTATION, type NodeSpec } from './stages.ts';
export type { PodMode } from './config.ts';

/** Whether a real node enforces NetworkPolicies (kube-router's firewall). */
export type NetworkPolicyMode = 'enforce' | 'off';
export const NETWORK_POLICY_MODES: readonly NetworkPolicyMode[] = ['enforce', 'off'];
export { readVersions, describeVersions, binDirFor, cacheRoot, checkBinaries } from './versions.ts';

export interface ControlPlaneOptions {
  /**
   * Who runs the pods: 'simulated' (default) registers kwok-managed nodes; 'real' starts one
   * real node (containerd, kubelet, kube-proxy in a network namespace; Linux and root only)
   * with CoreDNS, and the API server on the node's network instead of loopback.
   */
  pods?: PodMode;
  /**
   * With real pods, how many real nodes (default 1, at most MAX_REAL_NODES): the first as ever,
   * each further one in a namespace off the first's (node/layout.ts), started after it.
   */
  realNodes?: number;
  /**
   * With real pods: 'enforce' runs kube-router's NetworkPolicy firewall on the node
   * (node/policy-controller.ts); 'off' (default) leaves the policies unenforced, as the bridge
   * CNI plugin alone does.
   */
  networkPolicies?: NetworkPolicyMode;
  /** kwok-managed nodes to register with simulated pods (default: one node with 8 cpu, 32Gi, 110 pods). */
  nodes?: NodeSpec[];
  /** Install the Dapr CRDs from manifests/crds/ and wait until Established (default true). */
  installCrds?: boolean;
  /** Run the ingress-nginx stand-in (default true; only with simulated pods). */
  ingressStandIn?: boolean;
  /** Address the ingress stand-in publishes (default 127.0.0.1). */
  ingressAddress?: string;
  /** One folder with all five control-plane binaries (default: each group's build cache folder for the pinned versions). */
  binDir?: string;
  /** Deadline for each step of the start (default 60 s). */
  stepDeadlineMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * Run the sandbox's image registry (./registry.ts): Docker pushes to 127.0.0.1:<port>, and with
   * real pods the nodes' containerd pulls the same names from the host end of their network.
   */
  registry?: boolean;
  /** More kube-apiserver flags (the benchmark's audit log, which counts each tool's requests). */
  apiserverExtraArgs?: string[];
  /**
   * For the CLI: the programs outlive this process (no exit hooks, no reaper) and the
   * ingress stand-in runs as a process of its own. stop() still works from this process;
   * a later process stops them with stopDetached().
   */
  detached?: boolean;
}

export interface ControlPlane {
  /** Admin kubeconfig (token of a system:masters user, CA embedded). */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** The temporary folder holding data, keys, kubeconfigs and logs/. */
  dir: string;
  versions: ControlPlaneVersions;
  kc: KubeConfig;
  pods: PodMode;
  nodes: string[];
  /** With real pods: what a later process needs to put the host back (state.json keeps it). */
  node?: RealNodeRecord;
  /** Further real nodes' records (their sweeps also find them on disk, next to the first's). */
  furtherNodes?: RealNodeRecord[];
  /** The image registry's endpoints, when it runs (REGISTRY is `registry.push`). */
  registry?: RegistryEndpoints;
  /** Whether the real node enforces NetworkPolicies. */
  networkPolicies: NetworkPolicyMode;
  /** Every process started, by name (for the CLI's state and for checks that none is left). */
  processes: { name: string; pid: number }[];
  /** The in-process ingress stand-in (undefined when disabled or detached). */
  ingress?: IngressStandIn;
  /**
   * Stops one component (SIGTERM, then SIGKILL), leaves it down for downMs, starts it again with
   * the same arguments and waits until it is healthy: how tests make an API server go away.
   */
  restart(component: RestartableComponent, options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** The programs restart() can stop and start again (the ingress stand-in is not one of them). */
export const RESTARTABLE = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type RestartableComponent = (typeof RESTARTABLE)[number];

async function freePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const ports: Partial<Ports> = {};
  for (const name of PORT_NAMES) {
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[name] = port;
  }
  return ports as Ports;
}


// Planes started by this process, torn down on exit or on a terminating signal.
const live = new Set<{ kill(): void; stop(): Promise<void> }>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const plane of live) plane.kill();
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...live].map((p) => p.stop())).then(() => process.exit(code));
    });
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  try {
    return await startOnce(options);
  } catch (err) {
    // A free port is only free until someone else binds it; that race is worth one retry.
    if (!/address already in use/i.test((err as Error).message)) throw err;
    options.log?.('control plane: a port was taken meanwhile; starting again with new ports');
    return startOnce(options);
  }
}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const deadline = options.stepDeadlineMs ?? 60_000;
  const versions = readVersions();
  checkBinaries(versions, options.binDir);
  const bin = (name: Binary) => (options.binDir ? join(options.binDir, name) : binaryPath(versions, name));
  log(`control plane: ${describeVersions(versions)} from ${options.binDir ?? cacheRoot()}`);

  const pods = options.pods ?? 'simulated';
  const networkPolicies = networkPoliciesFor(pods, options.realNodes ?? 1, options.networkPolicies);
  if (pods === 'real') checkRealNode(networkPolicies);
  if (options.registry) checkRegistryBinary(versions);

  const dir = mkdtempSync(join(tmpdir(), 'todo-deploy-cp-'));
  const realNodes = options.realNodes ?? 1;
  if (!Number.isInteger(realNodes) || realNodes < 1 || realNodes > MAX_REAL_NODES) throw new Error(`A sandbox runs 1 to ${MAX_REAL_NODES} real nodes, not ${realNodes}.`);
  if (realNodes > 1 && pods !== 'real') throw new Error(`${realNodes} real nodes were asked for with simulated pods: use --pods real, or kwok nodes (--nodes with simulated pods).`);
  const layout = layoutFor(dir, await freePorts(), pods, realNodes);
  mkdirSync(layout.certDir, { mode: 0o700 });
  mkdirSync(layout.logDir);
  let nodeRecord: RealNodeRecord | undefined;
  const furtherRecords: RealNodeRecord[] = [];

  const components: Component[] = [];
  const reaper: Reaper | undefined = options.detached ? undefined : startReaper();
  reaper?.trackDir(dir);
  let ingress: IngressStandIn | undefined;
  let stopping: Promise<void> | undefined;

  const entry = {
    // Synchronous last resort, for process exit.
    kill() {
      for (const c of components) {
        try {
          process.kill(-c.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      removePlaneDir(dir, nodeRecord);
    },
    stop() {
      stopping ??= (async () => {
        await ingress?.stop();
        // A detached start unrefs its programs; stopping them waits for their exit events, which
        // an unref'd child does not keep the event loop alive for: without this a start that
        // failed ended with exit 13 (an unsettled top-level await), its error never printed.
        for (const c of components) c.proc.ref();
        // Node programs first, then clients, then the API server, then its store.
        for (const c of [...components].reverse()) await stopComponent(c, TEARDOWN_GRACE_MS);
        const left = removePlaneDir(dir, nodeRecord);
        if (left.length) log(`control plane: could not clean up ${left.join('; ')}`);
        reaper?.release();
        live.delete(entry);
        log('control plane: stopped');
      })();
      return stopping;
    },
  };
  // Until it is up, a signal or an exit tears the plane down in every mode; once up, a
  // detached plane is left running on purpose.
  live.add(entry);
  installHooks();

  const argsOf = new Map<string, string[]>();
  const track = (c: Component) => {
    components.push(c);
    reaper?.track(c.pid);
    if (options.detached) c.proc.unref();
    log(`control plane: started ${c.name} (pid ${c.pid})`);
    return c;
  };
  const start = (name: Binary, args: string[]) => {
    argsOf.set(name, args);
    return track(startComponent(name, bin(name), args, layout.logDir));
  };
  // argv is `nsenter --net=... -- program args` (node/network.ts inNetns).
  const startInNetns = (name: string, argv: string[], env: NodeJS.ProcessEnv) => track(startComponent(name, argv[0], argv.slice(1), layout.logDir, true, env));

  try {
    if (layout.node) {
      // The API server binds the node network's host address: it must exist first.
      nodeRecord = prepareRealNode(layout.node, log);
      // Its sweep also sweeps the further nodes' records found next to it (node/sweep.ts).
      reaper?.trackRun(sweepCommand(layout.node.recordFile));
      for (const further of layout.furtherNodes) furtherRecords.push(prepareRealNode(further, log));
    }
    const { tokens, furtherTokens } = writeSecrets(layout);
    writeFileSync(layout.kwokConfig, kwokStages().map((s) => stringify(s)).join('---\n'));
    // Before the node: its containerd is configured with the registry's address.
    const registry = options.registry ? await startRegistry(dir, layout.node ? layout.address : undefined, versions, layout.logDir, track, deadline) : undefined;
    if (registry) log(`control plane: image registry at ${registry.push}${registry.nodes ? ` (the nodes pull from ${registry.nodes})` : ''}`);

    const etcd = start('etcd', etcdArgs(layout));
    await waitForHealthy({ name: 'etcd', url: `${layout.etcdUrl}/health`, accept: (b) => b.includes('"health":"true"') }, deadline, etcd);

    const apiserver = start('kube-apiserver', [...apiserverArgs(layout), ...(options.apiserverExtraArgs ?? [])]);
    // Until it is up, its self-signed certificate does not exist to be trusted.
    await waitForHealthy({ name: 'kube-apiserver', url: `${layout.server}/readyz`, insecure: true, token: tokens.admin }, deadline, apiserver);
    const caPem = readFileSync(layout.caFile, 'utf8');
    const verified = await get({ url: `${layout.server}/readyz`, ca: caPem, token: tokens.admin });
    if (verified.status !== 200) throw new Error(`kube-apiserver answered /readyz with HTTP ${verified.status} over verified TLS`);
    for (const id of identitiesFor(pods)) {
      writeFileSync(layout.kubeconfigs[id], renderKubeconfig({ server: layout.server, caPem, user: USERS[id].user, token: tokens[id]! }), { mode: 0o600 });
    }
    for (const further of layout.furtherNodes) {
      writeFileSync(further.kubeletKubeconfig, renderKubeconfig({ server: layout.server, caPem, user: kubeletUser(further.name).user, token: furtherTokens.get(further.name)! }), { mode: 0o600 });
      writeFileSync(further.kubeProxyKubeconfig, renderKubeconfig({ server: layout.server, caPem, user: USERS.kubeProxy.user, token: tokens.kubeProxy! }), { mode: 0o600 });
    }

    const kcm = start('kube-controller-manager', controllerManagerArgs(layout));
    const scheduler = start('kube-scheduler', schedulerArgs(layout));
    const kwok = pods === 'simulated' ? start('kwok', kwokArgs(layout)) : undefined;
    await Promise.all([
      waitForHealthy({ name: 'kube-controller-manager', url: `https://127.0.0.1:${layout.ports.controllerManager}/healthz`, insecure: true }, deadline, kcm),
      waitForHealthy({ name: 'kube-scheduler', url: `https://127.0.0.1:${layout.ports.scheduler}/healthz`, insecure: true }, deadline, scheduler),
      kwok && waitForHealthy({ name: 'kwok', url: `http://127.0.0.1:${layout.ports.kwok}/healthz` }, deadline, kwok),
    ]);

    const kc = new KubeConfig();
    kc.loadFromFile(layout.kubeconfigs.admin);

    if (options.installCrds !== false) {
      const crds = readCrds();
      await installCrds(kc, crds, deadline);
      log(`control plane: CRDs established: ${crds.map((c) => c.metadata.name).join(', ')}`);
    }

    let nodeNames: string[];
    if (layout.node && nodeRecord) {
      log('control plane: starting the real node (containerd, kubelet, kube-proxy)');
      const binaries = nodeBinaries();
      await startRealNode({
        layout: layout.node,
        record: nodeRecord,
        binaries,
        kc,
        start: startInNetns,
        deadlineMs: Math.max(deadline, 120_000),
        log,
        registry,
        policyController: networkPolicies === 'enforce' ? { kubeconfig: layout.kubeconfigs.networkPolicyController } : undefined,
      });
      // One after the other: the controller-manager gives the index-th node registered the index-th pods' range.
      for (const [i, further] of layout.furtherNodes.entries()) {
        log(`control plane: starting real node ${further.name} (containerd, kubelet, kube-proxy)`);
        const started = Date.now();
        await startRealNode({ layout: further, record: furtherRecords[i]!, binaries, kc, start: startInNetns, deadlineMs: Math.max(deadline, 120_000), log, registry });
        log(`control plane: real node ${further.name} Ready ${((Date.now() - started) / 1000).toFixed(1)} s after its start`);
      }
      nodeNames = [NODE_NAME, ...layout.furtherNodes.map((l) => l.name)];
    } else {
      const nodes = options.nodes ?? DEFAULT_NODES;
      // The node lifecycle controller lifts the not-ready taint on its own schedule, which a
      // loaded machine stretches (seen past 60 s at load 12 on 2 cores): give it as long as a real node.
      await registerNodes(kc, nodes, Math.max(deadline, 120_000));
      nodeNames = nodes.map((n) => n.name);
      log(`control plane: nodes ready: ${nodeNames.join(', ')}`);
    }

    // With real pods `up` deploys a real ingress controller (lib/cluster/sandbox-ingress.ts).
    if (options.ingressStandIn !== false && pods === 'simulated') {
      if (options.detached) {
        const c = startIngressProcess(layout, options.ingressAddress);
        components.push(c);
        await watchUntil(clusterFromKubeConfig(kc), { kind: KINDS.IngressClass.ref, name: 'nginx' }, (items) => ({ done: items.length > 0 }), {
          deadline: Date.now() + deadline,
          goal: 'the ingress stand-in to create IngressClass nginx',
        });
      } else {
        ingress = await startIngressStandIn({ kc, address: options.ingressAddress });
      }
      log('control plane: ingress stand-in watching Ingresses of class nginx');
    }

    if (options.detached) live.delete(entry);
    const processes = components.map((c) => ({ name: c.name, pid: c.pid }));
    const restart = async (name: RestartableComponent, restartOptions: { downMs?: number } = {}) => {
      const index = components.findIndex((c) => c.name === name);
      const args = argsOf.get(name);
      if (index === -1 || !args) throw new Error(`The control plane has no component ${name}; it has ${components.map((c) => c.name).join(', ')}.`);
      await stopComponent(components[index]!);
      log(`control plane: stopped ${name} for a restart`);
      if (restartOptions.downMs) await new Promise((r) => setTimeout(r, restartOptions.downMs));
      const c = startComponent(name, bin(name), args, layout.logDir);
      components[index] = c;
      reaper?.track(c.pid);
      if (options.detached) c.proc.unref();
      const listed = processes.find((p) => p.name === name);
      if (listed) listed.pid = c.pid;
      log(`control plane: started ${name} again (pid ${c.pid})`);
      await waitForHealthy(healthFromArgs(name, args, tokens.admin), deadline, c);
    };
    return {
      kubeconfig: layout.kubeconfigs.admin,
      server: layout.server,
      dir,
      versions,
      kc,
      pods,
      nodes: nodeNames,
      node: nodeRecord,
      ...(furtherRecords.length ? { furtherNodes: furtherRecords } : {}),
      registry,
      networkPolicies,
      processes,
      ingress,
      restart,
      stop: () => entry.stop(),
    };
  } catch (err) {
    await entry.stop();
    throw err;
  }
}

/**
 * Whether the plane enforces NetworkPolicies: asked for, or the default for one real node;
 * never with simulated pods (kwok runs no traffic) nor with several real nodes (kube-router runs
 * in the first node's namespace only, so further nodes would carry pods it does not filter),
 * where the default is off whatever it is for one node. Throws when enforcement is asked for
 * where it cannot be. Pure.
 */
export function networkPoliciesFor(pods: PodMode, realNodes: number, asked: NetworkPolicyMode | undefined): NetworkPolicyMode {
  if (asked === 'enforce' && pods !== 'real') throw new Error('NetworkPolicies can be enforced only with real pods (kwok runs no traffic). Use --pods real, or leave enforcement off.');
  if (asked === 'enforce' && realNodes > 1) throw new Error('NetworkPolicies are enforced on one real node only (kube-router runs in the first node). Use one node, or leave enforcement off.');
  if (pods !== 'real' || realNodes > 1) return 'off';
  return asked ?? ONE_REAL_NODE_DEFAULT_POLICIES;
}

/**
 * Enforcement on a plane with one real node when nobody asks (`npm run controlplane -- start`).
 * `up --cluster sandbox` asks for its own default, on where kube-router can run (sandboxPolicyMode).
 */
const ONE_REAL_NODE_DEFAULT_POLICIES: NetworkPolicyMode = 'off';

/** Throws, saying why, when a real node cannot run here or its programs are not built. */
export function checkRealNode(networkPolicies: NetworkPolicyMode = 'off'): void {
  const verdict = realNodeSupport();
  if (!verdict.possible) throw new Error(`A real node cannot run here: ${verdict.reasons.join('; ')}. Use simulated pods instead (--pods simulated).`);
  const problems = [...nodeBinaryProblems(), ...(networkPolicies === 'enforce' ? policyControllerProblems() : [])];
  if (problems.length) throw new Error(`The real node's programs are not ready: ${problems.join('; ')}.`);
}

export { removePlaneDir } from './node/index.ts';

/** Throws, saying what to build, unless the registry group is built for the pinned version. */
function checkRegistryBinary(versions: ControlPlaneVersions): void {
  const problems = groupProblems(versions, REGISTRY_GROUPS);
  if (problems.length) throw new Error(`The image registry is not built (${problems.join('; ')}). Fix: bash lib/controlplane/build/build.sh registry (needs Go and the Go module proxy).`);
}

/**
 * Starts the image registry (./registry.ts): the push endpoint on 127.0.0.1 and, with real
 * nodes, the read-only one they pull from on the host end of their network, on the same free
 * port; waits until both answer /v2/.
 */
async function startRegistry(planeDir: string, nodesAddress: string | undefined, versions: ControlPlaneVersions, logDir: string, track: (c: Component) => Component, deadlineMs: number): Promise<RegistryEndpoints> {
  const l = registryLayoutFor(planeDir);
  mkdirSync(l.storage, { recursive: true });
  const endpoints = registryEndpoints(await freePort(), nodesAddress);
  const secret = randomBytes(24).toString('hex');
  const bin = binaryPath(versions, 'registry');
  const env = registryEnv(process.env);
  const serve = (name: string, config: string, addr: string, readOnly: boolean) => {
    writeFileSync(config, registryConfig({ addr, storage: l.storage, readOnly, secret }), { mode: 0o600 });
    return track(startComponent(name, bin, ['serve', config], logDir, true, env));
  };
  const push = serve('registry', l.pushConfig, endpoints.push, false);
  const nodes = endpoints.nodes ? serve('registry-nodes', l.nodesConfig, endpoints.nodes, true) : undefined;
  await Promise.all([
    waitForHealthy({ name: 'registry', url: registryApiUrl(endpoints.push) }, deadlineMs, push),
    nodes && waitForHealthy({ name: 'registry-nodes', url: registryApiUrl(endpoints.nodes!) }, deadlineMs, nodes),
  ]);
  return endpoints;
}

/** Service-account signing keys (node:crypto) and one random token per identity and per further node's kubelet, all 0600. */
function writeSecrets(layout: Layout): { tokens: Partial<Record<Identity, string>>; furtherTokens: Map<string, string> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(layout.saPrivateKey, privateKey, { mode: 0o600 });
  writeFileSync(layout.saPublicKey, publicKey, { mode: 0o600 });
  const tokens = Object.fromEntries(identitiesFor(layout.pods).map((id) => [id, randomBytes(32).toString('hex')])) as Partial<Record<Identity, string>>;
  const furtherTokens = new Map(layout.furtherNodes.map((l) => [l.name, randomBytes(32).toString('hex')]));
  const more = layout.furtherNodes.map((l) => ({ token: furtherTokens.get(l.name)!, ...kubeletUser(l.name) }));
  writeFileSync(layout.tokenFile, tokenFileCsv(tokens, more), { mode: 0o600 });
  return { tokens, furtherTokens };
}

// The admission plugin taints a new node not-ready; the node controller lifts it once Ready (the kind table's Node status).
const nodeIsReady = (node: KubeObject | undefined): boolean => KINDS.Node.status(node).done;

async function registerNodes(kc: KubeConfig, nodes: NodeSpec[], deadlineMs: number): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const spec of nodes) await core.createNode({ body: kwokNode(spec) as any });
  const names = nodes.map((n) => n.name);
  const named = (items: KubeObject[], name: string): any => items.find((i) => i.metadata.name === name);
  await watchUntil(clusterFromKubeConfig(kc), { kind: KINDS.Node.ref }, (items) => ({ done: names.every((n) => nodeIsReady(named(items, n))) }), {
    deadline: Date.now() + deadlineMs,
    goal: `nodes ${names.join(', ')} to be Ready and untainted`,
    explain: (items) =>
      names
        .map((n) => `${n}: conditions ${JSON.stringify(named(items, n)?.status?.conditions?.map((c: any) => `${c.type}=${c.status}`) ?? [])}, taints ${JSON.stringify(named(items, n)?.spec?.taints ?? [])}`)
        .join('; '),
  });
}

function startIngressProcess(layout: Layout, address?: string): Component {
  const script = join(REPO_ROOT, 'lib', 'controlplane', 'ingress-stand-in.ts');
  const logFile = join(layout.logDir, 'ingress-stand-in.log');
  const fd = openSync(logFile, 'a');
  const args = ['--import', 'tsx', script, '--kubeconfig', layout.kubeconfigs.admin];
  if (address) args.push('--address', address);
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', fd, fd], detached: true, env: childEnv() });
  closeSync(fd);
  proc.unref();
  const exited = new Promise<string>((resolve) => proc.once('exit', (code, signal) => resolve(`ingress-stand-in ended (${signal ?? code})`)));
  return { name: 'ingress-stand-in', proc, pid: proc.pid!, logFile, exited };
}
