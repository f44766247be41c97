// The sandbox provider: the project's own control plane (lib/controlplane: real etcd,
// kube-apiserver, controller-manager and scheduler), started in the background when it is not
// running and shared with `npm run controlplane`. Its pods run on a real node (a kubelet and
// containerd in a network namespace: lib/controlplane/node) where Linux, root, cgroups and a
// Docker engine for the images are there, else kwok simulates them and nothing serves
// traffic; `--pods real|simulated` (SANDBOX_PODS) chooses. With real pods the images are built
// and imported into the node's containerd, and the URL goes to the frontend's Service through
// the node's network. On the real node Dapr is Dapr, built here and installed with helm from its
// chart (lib/cluster/dapr-real-node.ts); with simulated pods (or SANDBOX_DAPR=stand-in) its
// control plane is a stand-in (lib/cluster/dapr-stand-in.ts). Its ingress controller is Traefik
// on a real node (lib/cluster/sandbox-ingress.ts: it serves IngressClass nginx and routes
// todo.local), the ingress-nginx stand-in with simulated pods (it publishes an address, routes
// nothing).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildGroups } from '../controlplane/build-binaries.ts';
import { cacheRoot, CONTROL_PLANE_GROUPS, imageRefs, missingGroups, NODE_GROUPS, readVersions, type Group } from '../controlplane/versions.ts';
import { isAlive, logTail } from '../controlplane/processes.ts';
import { describeEndpoints, waitForServiceRoutes } from '../controlplane/node/service-routes.ts';
import { waitForPolicyRules } from '../controlplane/node/policy-sync.ts';
import { describeLeft, describeRecovery, enforcesPolicies, podsOf, recoverAbandoned, runningState, startDetached, stateFilePath, stopRecorded, type ControlPlaneState, type StopResult } from '../controlplane/state.ts';
import { importImages, nodeImages } from '../controlplane/node/index.ts';
import { nodeBinaries } from '../controlplane/node/binaries.ts';
import { policyControllerProblems } from '../controlplane/node/policy-controller.ts';
import { realNodeSupport } from '../controlplane/node/support.ts';
import { dockerRaw } from '../images/docker.ts';
import { exportImages } from '../images/export.ts';
import { withStartLock } from '../controlplane/start-lock.ts';
import { DeployError, UsageError } from '../errors.ts';
import { applyDaprStandIn } from './dapr-stand-in.ts';
import { daprOnRealNode, installDaprOnRealNode } from './dapr-real-node.ts';
import { publishedAddress } from './current.ts';
import { getIngressClass, INGRESS_NGINX, TRAEFIK } from './ingress.ts';
import { deployTraefik } from './sandbox-ingress.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider } from './provider.ts';
import { choosePods, describePods, parsePodsSetting } from './sandbox-pods.ts';
import type { NetworkPolicyMode } from '../controlplane/index.ts';
import { findTool, INSTALL } from './tools.ts';

export const SIMULATED =
  'Sandbox: the API server and controllers are real, but pods are simulated by kwok and nothing serves traffic (no container runs, no sidecar is injected).';

/**
 * The SANDBOX_NETWORK_POLICIES setting: 'enforce' runs kube-router's NetworkPolicy firewall on
 * the real node, 'off' leaves the policies unenforced (the bridge CNI plugin ignores them);
 * unset means the default, sandboxPolicyMode's. Pure.
 */
export function parseNetworkPoliciesSetting(value: string | undefined): NetworkPolicyMode | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (v === 'enforce' || v === 'off') return v;
  throw new UsageError(`SANDBOX_NETWORK_POLICIES is "${v}", which is neither enforce nor off. Fix: set SANDBOX_NETWORK_POLICIES=enforce (kube-router enforces the NetworkPolicies on the real node) or off, or remove it.`);
}

/**
 * Whether a new real node enforces the policies: as set, else on where kube-router can run (its
 * `ipset`). On by default because the stack's isolation rests on them (Redis has no password);
 * up waits for kube-router's rules as for kube-proxy's, and nothing of the sandbox reaches a pod
 * past them (the URL and MCP go through the ingress controller). Simulated pods: no mode. Pure.
 */
export function sandboxPolicyMode(setting: NetworkPolicyMode | undefined, pods: 'real' | 'simulated', problems: readonly string[]): NetworkPolicyMode | undefined {
  if (pods !== 'real') return undefined;
  return setting ?? (problems.length === 0 ? 'enforce' : 'off');
}

function stateFile(ctx: ClusterContext): string {
  return stateFilePath(ctx.settings as NodeJS.ProcessEnv);
}

/** How long kube-proxy may take to route the endpoints the gates saw ready (it syncs at least every 30 s), and kube-router to write their pods' firewall. */
const ROUTES_DEADLINE_MS = 60_000;

/** The running sandbox, when its pods are real. */
function realNode(ctx: ClusterContext): ControlPlaneState | undefined {
  const state = runningState(stateFile(ctx));
  return state && podsOf(state) === 'real' && state.node ? state : undefined;
}

async function dockerAnswers(): Promise<boolean> {
  const r = await dockerRaw(['info', '--format', '{{.ServerVersion}}']);
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** Builds the groups of programs that are missing (needs Go; about 25 minutes the first time), showing build.sh's progress. */
async function ensureBinaries(ctx: ClusterContext, groups: readonly Group[] = CONTROL_PLANE_GROUPS): Promise<void> {
  const missing = missingGroups(readVersions(), groups);
  if (missing.length === 0) return;
  if (!(await findTool('go'))) {
    throw new UsageError(`The sandbox needs programs that are not built yet (${missing.join(', ')}, in ${cacheRoot()}), and Go is not installed to build them. Fix: ${INSTALL.go}, then run \`npm run controlplane:build\` (or \`up\` again).`);
  }
  ctx.log(`building ${missing.join(', ')} from the Go module proxy (once; progress below, full output in each group's build.log)`);
  const built = await buildGroups(missing, (line) => ctx.log(ctx.redact(line)));
  if (!built.ok) {
    throw new DeployError(`Building the sandbox's programs failed:\n${ctx.redact(built.error ?? '')}\nFix: read the log named above; \`npm run controlplane:build\` runs the same build.`);
  }
}

export const sandboxProvider: ClusterProvider = {
  name: 'sandbox',
  ingressFix: `with real pods check Traefik (\`kubectl -n ${TRAEFIK.namespace} get pods\`); with simulated pods restart the sandbox, whose ingress stand-in publishes the addresses: \`npm run down -- --cluster sandbox --purge\`, then up again.`,

  imagesNotNeeded(ctx) {
    if (realNode(ctx)) return undefined;
    return 'not built for the sandbox: kwok simulates the pods, so nothing would run the images (the manifests name the IMAGE_TAG refs)';
  },

  async ensureCluster(ctx) {
    const file = stateFile(ctx);
    const running = runningState(file);
    const requested = parsePodsSetting(ctx.settings.SANDBOX_PODS);
    const policies = parseNetworkPoliciesSetting(ctx.settings.SANDBOX_NETWORK_POLICIES);
    // Checked here too, before anything starts: a bad value is a usage error with nothing done.
    daprOnRealNode(ctx.settings.SANDBOX_DAPR);
    const reuse = (state: ControlPlaneState, by = '') => {
      if (policies && policies !== (enforcesPolicies(state) ? 'enforce' : 'off')) {
        throw new UsageError(`The sandbox already runs ${enforcesPolicies(state) ? 'with' : 'without'} NetworkPolicy enforcement; SANDBOX_NETWORK_POLICIES=${policies} needs a new one. Fix: \`npm run down -- --cluster sandbox --purge\`, then run up again (or remove SANDBOX_NETWORK_POLICIES to use the running one).`);
      }
      const choice = choosePods({ requested, running: podsOf(state), host: { possible: true, reasons: [], summary: '' }, docker: true, buildable: true });
      return { kubeconfig: state.kubeconfig, summary: `sandbox control plane: already running at ${state.server}${by}; ${describePods(choice)}` };
    };
    if (running) return reuse(running);
    // Checked again under the lock: another run may have started it while we waited.
    return withStartLock(file, ctx.log, async () => {
      const started = runningState(file);
      if (started) return reuse(started, ', started by another run');
      const go = !!(await findTool('go'));
      const versions = readVersions();
      const choice = choosePods({
        requested,
        host: realNodeSupport(),
        docker: requested === 'simulated' ? false : await dockerAnswers(),
        buildable: go || missingGroups(versions, NODE_GROUPS).length === 0,
      });
      if (policies === 'enforce' && choice.pods !== 'real') {
        throw new UsageError(`SANDBOX_NETWORK_POLICIES=enforce needs real pods, but the sandbox would simulate them (${describePods(choice)}). Fix: run where real pods can (Linux, root, a Docker engine), or remove SANDBOX_NETWORK_POLICIES.`);
      }
      const mode = sandboxPolicyMode(policies, choice.pods, policyControllerProblems());
      await ensureBinaries(ctx, choice.pods === 'real' ? [...new Set([...CONTROL_PLANE_GROUPS, ...NODE_GROUPS])] : CONTROL_PLANE_GROUPS);
      ctx.log(
        choice.pods === 'real'
          ? `starting the sandbox: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a real node (containerd, kubelet, kube-proxy, CoreDNS${mode === 'enforce' ? ', kube-router enforcing NetworkPolicies' : ''})`
          : 'starting the sandbox control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, ingress stand-in)',
      );
      const state = await startDetached({ log: ctx.log, pods: choice.pods, networkPolicies: mode }, file);
      return { kubeconfig: state.kubeconfig, summary: `sandbox control plane: started at ${state.server}, ${state.versions}; ${describePods(choice)}` };
    });
  },

  policyEnforcement(ctx) {
    const state = runningState(stateFile(ctx));
    if (!state) return undefined;
    if (podsOf(state) !== 'real') return { enforces: false, why: 'kwok simulates the pods (no traffic flows, and nothing enforces the policies)' };
    if (enforcesPolicies(state)) return { enforces: true, by: `kube-router v${readVersions().kubeRouter} (its firewall) on the sandbox's real node` };
    const missing = policyControllerProblems();
    return {
      enforces: false,
      why: missing.length
        ? `the sandbox's real node runs without its NetworkPolicy controller, kube-router (${missing.join('; ')}); its bridge CNI plugin ignores the policies`
        : "the sandbox's real node runs without its NetworkPolicy controller (started with SANDBOX_NETWORK_POLICIES=off, or enforcement turned off on it); its bridge CNI plugin ignores the policies",
    };
  },

  async findCluster(ctx) {
    const running = runningState(stateFile(ctx));
    if (running) return { kubeconfig: running.kubeconfig, summary: `sandbox control plane at ${running.server}` };
    return { absent: 'the sandbox control plane is not running' };
  },

  async ensureIngress(cluster, ctx) {
    const node = realNode(ctx);
    if (node) {
      // A sandbox started before Traefik was a node group has not built it.
      await ensureBinaries(ctx, ['traefik']);
      return deployTraefik(cluster, ctx, [node.node!, ...(node.furtherNodes ?? [])]);
    }
    const standIn = runningState(stateFile(ctx))?.processes.find((p) => p.name === 'ingress-stand-in');
    const cls = await getIngressClass(cluster);
    if (!standIn || !isAlive(standIn.pid) || !cls) {
      throw new DeployError(
        `The sandbox runs without its ingress stand-in (${!standIn ? 'not started' : !isAlive(standIn.pid) ? `pid ${standIn.pid} ended` : `no IngressClass ${INGRESS_NGINX.className}`}), so the Ingress would never get an address. ` +
          'Fix: restart the sandbox: `npm run down -- --cluster sandbox --purge`, then `up` again (or `npm run controlplane -- stop` and `start` without --no-ingress).',
      );
    }
    return `Ingress controller: the ingress-nginx stand-in (publishes Ingress addresses; serves no traffic)`;
  },

  async loadImages(refs, ctx) {
    const state = realNode(ctx);
    if (state) await loadIntoNode(state, Object.values(refs).filter((r): r is string => typeof r === 'string'), ctx);
    return refs;
  },

  async address(cluster, ctx, namespace): Promise<ClusterAddress> {
    if (!realNode(ctx)) return { serves: false, hint: `${SIMULATED} The URL is not reachable; use --pods real (Linux, root), --cluster minikube or --cluster kind to run the app.` };
    // Traefik's Service address, which the host reaches through the node's network.
    return { ingress: await publishedAddress(cluster, namespace), serves: true };
  },

  async routesReady(cluster, ctx, namespace) {
    const state = realNode(ctx);
    if (!state) return undefined;
    // The gates saw the endpoints ready; a request also needs kube-proxy's rules for them (service-routes.ts).
    const proxyLog = join(state.dir, 'logs', 'kube-proxy.log');
    const routes = await waitForServiceRoutes(cluster, namespace, { deadlineMs: ROUTES_DEADLINE_MS, explain: () => `Last lines of ${proxyLog}:\n${existsSync(proxyLog) ? logTail(proxyLog, 15) : '(no log)'}` });
    const routed = routes.waitedFor.length
      ? `kube-proxy routed ${describeEndpoints(routes.waitedFor)} ${(routes.ms / 1000).toFixed(1)} s after the gates passed`
      : 'kube-proxy routed every ready endpoint when the gates passed';
    if (!enforcesPolicies(state)) return routed;
    // And, where the policies are enforced, kube-router's firewall for the new pods (policy-sync.ts).
    const routerLog = join(state.dir, 'logs', 'kube-router.log');
    const rules = await waitForPolicyRules(cluster, namespace, { deadlineMs: ROUTES_DEADLINE_MS, netns: state.node!.netns, explain: () => `Last lines of ${routerLog}:\n${existsSync(routerLog) ? logTail(routerLog, 15) : '(no log)'}` });
    return `${routed}; ${rules.waitedFor.length ? `kube-router wrote the NetworkPolicy rules of ${rules.waitedFor.length} pod(s) ${(rules.ms / 1000).toFixed(1)} s after` : 'kube-router had written the NetworkPolicy rules of every pod'}`;
  },

  async provideDapr(cluster, ctx) {
    const node = realNode(ctx);
    if (node && daprOnRealNode(ctx.settings.SANDBOX_DAPR) === 'real') return installDaprOnRealNode(cluster, node, ctx, () => ensureBinaries(ctx, ['dapr']));
    if (node) {
      await applyDaprStandIn(cluster.kc, imageRefs(readVersions()).pause);
      return 'stand-in created in dapr-system (pause containers named like Dapr\'s workloads on the real node; not Dapr, no sidecars; SANDBOX_DAPR=stand-in)';
    }
    await applyDaprStandIn(cluster.kc);
    return 'stand-in created in dapr-system (kwok-simulated workloads named like Dapr\'s; not Dapr, no sidecars)';
  },

  async purge(ctx) {
    const file = stateFile(ctx);
    const running = runningState(file);
    let stopped: string;
    let result: StopResult | undefined;
    if (!running) {
      stopped = 'the sandbox control plane was not running';
    } else {
      result = await stopRecorded(running, file, ctx.log);
      const left = describeLeft(result);
      if (left) throw new DeployError(`Could not stop the sandbox control plane cleanly: ${left}.`);
      const node = podsOf(running) === 'real' ? '; the real node\'s network namespace, mounts and cgroups removed, host kernel settings as before' : '';
      stopped = `sandbox control plane stopped (${running.processes.map((p) => p.name).join(', ')})${node}`;
    }
    // What an earlier real node left when it was killed with its reaper (nothing of it runs).
    const recovery = describeRecovery(recoverAbandoned(running && result ? { state: running, result } : undefined));
    if (recovery.problem) throw new DeployError(`${stopped}, but ${recovery.problem}. Fix: end what the sweep names (\`umount\`, \`ip netns delete todo-deploy-node\`), then purge again.`);
    return recovery.line ? `${stopped}; ${recovery.line}` : stopped;
  },
};

/** How containerd names an image given as Docker names it (todo-backend:abc -> docker.io/library/todo-backend:abc). Pure. */
export function normalizeImageRef(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  if (slash < 0) return `docker.io/library/${ref}`;
  if (first.includes('.') || first.includes(':') || first === 'localhost') return ref;
  return `docker.io/${ref}`;
}

/** Exports the images the nodes lack from Docker and imports them into each node's containerd (as `minikube image load` does). */
async function loadIntoNode(state: ControlPlaneState, refs: string[], ctx: ClusterContext): Promise<void> {
  const { ctr } = nodeBinaries();
  const nodes = [state.node!, ...(state.furtherNodes ?? [])];
  const lacking = (node: (typeof nodes)[number]) => {
    const present = new Set(nodeImages(node, ctr));
    return [...new Set(refs)].filter((r) => !present.has(normalizeImageRef(r)));
  };
  const missing = [...new Set(nodes.flatMap(lacking))];
  if (missing.length === 0) {
    ctx.log(`real node: ${refs.length} image(s) already imported`);
    return;
  }
  const dir = join(state.node!.dir, 'images');
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, `load-${Date.now()}.tar`);
  try {
    const exported = await exportImages(missing, archive, { redact: ctx.redact, log: ctx.log });
    ctx.log(`real node: importing ${exported.exported.length} image(s) (${Math.round(exported.bytes / 1e6)} MB) into ${nodes.length === 1 ? 'its containerd' : `the containerd of each of ${nodes.length} nodes`}`);
    for (const node of nodes) importImages(node, ctr, [archive]);
  } finally {
    if (existsSync(archive)) rmSync(archive, { force: true });
  }
  const absent = [...new Set(nodes.flatMap(lacking))];
  if (absent.length) throw new DeployError(`The real node still lacks ${absent.join(', ')} after the import. Fix: check \`docker image inspect\` for them, then run up again.`);
}
