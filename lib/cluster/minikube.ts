// The minikube provider: a profile (MINIKUBE_PROFILE, default "todo") started with the docker
// driver only when it is not running, the ingress addon enabled and waited for, images loaded
// with `minikube image load`, and the address from `minikube ip`. The kubeconfig context
// minikube writes is named after the profile.
import { UsageError } from '../errors.ts';
import type { ImageRefs } from '../types.ts';
import type { Cluster } from '../kube/client.ts';
import { getIngressController, ingressControllerReady, waitForIngressController } from './ingress.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider, ClusterTarget } from './provider.ts';
import { forgetCreated, recordCreated, wasCreated } from './record.ts';
import { runTool, runToolRaw } from './tools.ts';

export interface MinikubeSettings {
  profile: string;
  cpus: string;
  memory: string;
}

export const MINIKUBE_DEFAULTS: MinikubeSettings = { profile: 'todo', cpus: '2', memory: '4096' };

const PROFILE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MEMORY = /^\d+(mb|m|gb|g)?$/i;

/** The profile, CPUs and memory from the settings, each checked; every problem reported at once. Pure. */
export function minikubeSettings(settings: ClusterContext['settings']): MinikubeSettings {
  const s: MinikubeSettings = {
    profile: settings.MINIKUBE_PROFILE?.trim() || MINIKUBE_DEFAULTS.profile,
    cpus: settings.MINIKUBE_CPUS?.trim() || MINIKUBE_DEFAULTS.cpus,
    memory: settings.MINIKUBE_MEMORY?.trim() || MINIKUBE_DEFAULTS.memory,
  };
  const problems: string[] = [];
  if (!PROFILE.test(s.profile)) problems.push(`MINIKUBE_PROFILE "${s.profile}" is not a valid profile name: use lowercase letters, digits and hyphens (for example "todo").`);
  if (!/^\d+$/.test(s.cpus) || Number(s.cpus) < 2) problems.push(`MINIKUBE_CPUS "${s.cpus}" is not a whole number of CPUs >= 2 (minikube needs at least 2).`);
  if (!MEMORY.test(s.memory)) problems.push(`MINIKUBE_MEMORY "${s.memory}" is not a memory size: give megabytes (4096) or a size with unit (4g).`);
  if (problems.length) {
    throw new UsageError(`The minikube settings (env/<env>.env or the environment) have ${problems.length} problem(s); nothing was started:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return s;
}

export type MinikubeState = 'running' | 'stopped' | 'absent';

export interface MinikubeStatus {
  state: MinikubeState;
  /** minikube's Kubeconfig field: "Configured" when the context points at the running cluster. */
  kubeconfig?: string;
  /** The raw fields, for messages. */
  detail: string;
}

/**
 * Reads `minikube status -p P -o json`. It exits non-zero whenever something is not running
 * (85 for a profile that does not exist) and prints one object (or an array, one per node);
 * the cluster is usable when the first node's Host, Kubelet and APIServer are all Running. Pure.
 */
export function parseMinikubeStatus(stdout: string, stderr: string, exitCode: number): MinikubeStatus {
  let node: Record<string, string> | undefined;
  try {
    const parsed = JSON.parse(stdout.trim() || 'null');
    node = Array.isArray(parsed) ? parsed[0] : parsed ?? undefined;
  } catch {
    node = undefined;
  }
  const detail = node ? `host ${node.Host}, kubelet ${node.Kubelet}, apiserver ${node.APIServer}` : (stderr.trim() || stdout.trim() || `exit ${exitCode}`).split('\n')[0]!;
  if (exitCode === 85 || node?.Host === 'Nonexistent' || /not found|does not exist/i.test(stderr)) return { state: 'absent', detail };
  if (node && node.Host === 'Running' && node.Kubelet === 'Running' && node.APIServer === 'Running') {
    return { state: 'running', kubeconfig: node.Kubeconfig, detail };
  }
  return { state: 'stopped', kubeconfig: node?.Kubeconfig, detail };
}

/**
 * The CNI the profile starts with: minikube's default (bridge, or kindnet with several nodes)
 * accepts NetworkPolicies and enforces none; Calico enforces them. Only a new profile takes it
 * (minikube keeps an existing profile's CNI), which `doctor` and `up` point out.
 */
export const MINIKUBE_CNI = 'calico';

/** The arguments of `minikube start` for the settings. Pure. */
export function minikubeStartArgs(s: MinikubeSettings): string[] {
  return ['start', '-p', s.profile, '--driver=docker', `--cni=${MINIKUBE_CNI}`, `--cpus=${s.cpus}`, `--memory=${s.memory}`];
}

async function status(s: MinikubeSettings, ctx: ClusterContext): Promise<MinikubeStatus> {
  const result = await runToolRaw('minikube', ['status', '-p', s.profile, '-o', 'json'], { redact: ctx.redact, signal: ctx.signal });
  return parseMinikubeStatus(result.stdout, result.stderr, result.exitCode);
}

const FIX_START = 'make sure Docker runs (`docker info`), then read minikube\'s message above; `minikube delete -p <profile>` and a new `up` start from scratch.';

export const minikubeProvider: ClusterProvider = {
  name: 'minikube',
  tool: 'minikube',

  async ensureCluster(ctx): Promise<ClusterTarget> {
    const s = minikubeSettings(ctx.settings);
    const before = await status(s, ctx);
    if (before.state === 'running') {
      // A running profile whose context went missing or stale (another kubeconfig, a restart).
      if (before.kubeconfig && before.kubeconfig !== 'Configured') {
        await runTool('minikube', ['update-context', '-p', s.profile], { redact: ctx.redact, what: `Pointing the kubeconfig at minikube profile ${s.profile}` });
      }
      return { context: s.profile, summary: `minikube profile ${s.profile}: already running` };
    }
    ctx.log(`starting minikube profile ${s.profile} (docker driver, ${MINIKUBE_CNI} CNI to enforce the NetworkPolicies, ${s.cpus} CPUs, ${s.memory} memory); the first start downloads images and takes minutes`);
    await runTool('minikube', minikubeStartArgs(s), {
      redact: ctx.redact,
      onLine: ctx.log,
      signal: ctx.signal,
      what: `Starting minikube profile ${s.profile}`,
      fix: FIX_START,
    });
    if (before.state === 'absent') recordCreated(ctx.settings, `minikube:${s.profile}`);
    return { context: s.profile, summary: `minikube profile ${s.profile}: ${before.state === 'absent' ? 'created and started' : 'started'}` };
  },

  async findCluster(ctx) {
    const s = minikubeSettings(ctx.settings);
    const now = await status(s, ctx);
    if (now.state === 'running') return { context: s.profile, summary: `minikube profile ${s.profile}: running` };
    return { absent: now.state === 'absent' ? `minikube profile ${s.profile} does not exist` : `minikube profile ${s.profile} is not running (${now.detail})` };
  },

  ingressFix: 'make sure minikube\'s ingress addon runs (`minikube addons enable ingress -p <profile>`, then `kubectl -n ingress-nginx get pods`).',

  async ensureIngress(cluster: Cluster, ctx) {
    const s = minikubeSettings(ctx.settings);
    if (await ingressControllerReady(cluster)) return 'Ingress controller: ingress-nginx already available';
    const existed = (await getIngressController(cluster)) !== undefined;
    if (!existed) {
      ctx.log(`enabling the ingress addon of minikube profile ${s.profile}`);
      await runTool('minikube', ['addons', 'enable', 'ingress', '-p', s.profile], {
        redact: ctx.redact,
        onLine: ctx.log,
        signal: ctx.signal,
        what: `Enabling the ingress addon of minikube profile ${s.profile}`,
      });
    }
    await waitForIngressController(cluster, ctx, `check the addon's pods: \`kubectl --context ${s.profile} -n ingress-nginx get pods\`, and \`minikube addons enable ingress -p ${s.profile}\`.`);
    return `Ingress controller: ingress-nginx ${existed ? 'became available' : 'enabled (minikube addon) and available'}`;
  },

  async loadImages(refs: Partial<ImageRefs>, ctx) {
    const s = minikubeSettings(ctx.settings);
    for (const ref of Object.values(refs)) {
      ctx.log(`minikube image load ${ref}`);
      await runTool('minikube', ['image', 'load', ref, '-p', s.profile], {
        redact: ctx.redact,
        signal: ctx.signal,
        what: `Loading ${ref} into minikube profile ${s.profile}`,
        fix: `check that the image exists locally (\`docker image inspect ${ref}\`) and that the profile runs (\`minikube status -p ${s.profile}\`).`,
      });
    }
    return refs;
  },

  async address(_cluster, ctx): Promise<ClusterAddress> {
    const s = minikubeSettings(ctx.settings);
    const ip = (await runTool('minikube', ['ip', '-p', s.profile], { redact: ctx.redact, what: `Asking minikube for the address of profile ${s.profile}` })).stdout.trim();
    const hint = process.platform !== 'linux'
      ? `With the docker driver on macOS or Windows the node address is not reachable from the host: run \`minikube tunnel -p ${s.profile}\` and map the domain to 127.0.0.1 instead.`
      : undefined;
    return { ingress: ip, serves: true, hint };
  },

  async purge(ctx) {
    const s = minikubeSettings(ctx.settings);
    const key = `minikube:${s.profile}` as const;
    if (!wasCreated(ctx.settings, key)) {
      const now = await status(s, ctx);
      if (now.state === 'absent') return `minikube profile ${s.profile} does not exist: nothing to delete`;
      return `minikube profile ${s.profile} kept: todo-deploy did not create it (delete it yourself with \`minikube delete -p ${s.profile}\`)`;
    }
    await runTool('minikube', ['delete', '-p', s.profile], { redact: ctx.redact, onLine: ctx.log, signal: ctx.signal, what: `Deleting minikube profile ${s.profile}` });
    forgetCreated(ctx.settings, key);
    return `minikube profile ${s.profile} deleted`;
  },
};
