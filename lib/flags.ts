// Flags shared by the scripts, and the mapping from setting flags to configuration keys.
import { SETTING_FLAGS, SETTING_KEYS, type SettingKey } from './config.ts';
import { COMMON_OPTIONS, type Options } from './cli.ts';
// provider.ts, not cluster/index.ts: the providers' code (and the Kubernetes client behind
// it) is loaded by the commands that use a cluster, not by every --help.
import { parseProviderName, type ProviderName } from './cluster/provider.ts';
import { Interrupted, UsageError } from './errors.ts';
import { POD_MODES, type PodMode } from './controlplane/pods.ts';
import { signalChildren } from './child-processes.ts';

/** One string option per configuration setting (--namespace, --replicas, --timeout, ...). */
export const SETTING_OPTIONS: Options = Object.fromEntries(
  SETTING_KEYS.map((key) => [SETTING_FLAGS[key].slice(2), { type: 'string' as const }]),
);

// No default for --cluster: it depends on --env (dev: the first cluster available, prod: current).
export const CLUSTER_OPTIONS = {
  cluster: { type: 'string' },
  context: { type: 'string' },
  pods: { type: 'string' },
} satisfies Options;

export const DEPLOY_OPTIONS: Options = { ...COMMON_OPTIONS, ...CLUSTER_OPTIONS, ...SETTING_OPTIONS };

/** The setting overrides present in parsed flag values. */
export function settingFlags(values: Record<string, unknown>): Partial<Record<SettingKey, string>> {
  const out: Partial<Record<SettingKey, string>> = {};
  for (const key of SETTING_KEYS) {
    const value = values[SETTING_FLAGS[key].slice(2)];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

export const SETTING_HELP = `Settings (override env/<env>.env and .env):
  --namespace NAME            Kubernetes namespace (a DNS label)
  --domain HOST               host name of the Ingress
  --replicas N                replicas per component (>= 1)
  --image-pull-policy POLICY  Never (dev) | IfNotPresent | Always (prod)
  --frontend-image REPO       image repository of the frontend (no tag)
  --backend-image REPO        image repository of the backend (no tag)
  --mcp-server-image REPO     image repository of the MCP server (no tag)
  --postgres-image REPO       image repository of the in-cluster PostgreSQL (no tag)
  --redis-image REPO          image repository of the in-cluster Redis (no tag)
  --image-tag TAG             tag used with --skip-images (semver or commit SHA, never latest)
  --timeout SECONDS           deadline of each readiness gate (READY_TIMEOUT)`;

export const CLUSTER_HELP = `Cluster (default for --env dev: the first available of a running local cluster in the current
context (minikube, kind, Docker Desktop), minikube, kind, the sandbox, said in one line with why;
for --env prod: current, never another):
  --cluster minikube          a minikube profile (MINIKUBE_PROFILE, default todo), started when not
                              running with the docker driver, MINIKUBE_CPUS and MINIKUBE_MEMORY
  --cluster kind              a kind cluster (KIND_CLUSTER, default todo), created when missing,
                              with ports 80/443 on this machine and ingress-nginx installed
  --cluster current           the current kubeconfig context (KUBECONFIG honoured), used as it is
  --cluster sandbox           the project's own control plane: a real API server, and a real node
                              (kubelet, containerd) where it can run, else kwok's simulated pods
  --pods real|simulated       with --cluster sandbox: pods on a real node (Linux, root, cgroups,
                              Docker for the images) or simulated by kwok; default real where
                              possible (SANDBOX_PODS sets it too)
  --context NAME              with --cluster current: use this kubeconfig context`;

/** Checks --cluster; undefined means the environment's default provider. */
export function checkCluster(value: unknown): ProviderName | undefined {
  return parseProviderName(value);
}

/**
 * Checks --pods: real or simulated, and only with --cluster sandbox. The choice reaches the
 * sandbox provider as the SANDBOX_PODS setting (the flag wins over the environment).
 */
export function applyPodsFlag(value: unknown, cluster: ProviderName | undefined, env: NodeJS.ProcessEnv = process.env): PodMode | undefined {
  if (value === undefined) return undefined;
  if (!(POD_MODES as readonly unknown[]).includes(value)) {
    throw new UsageError(`--pods takes real or simulated, not "${String(value)}". Fix: --pods real (a kubelet and containerd on this machine) or --pods simulated (kwok).`);
  }
  if (cluster !== 'sandbox') {
    throw new UsageError(`--pods ${String(value)} applies to --cluster sandbox only; ${cluster ?? 'the default cluster'} runs its own nodes. Fix: add --cluster sandbox, or drop --pods.`);
  }
  env.SANDBOX_PODS = value as PodMode;
  return value as PodMode;
}

/**
 * An AbortSignal that fires on Ctrl-C or SIGTERM, its reason an Interrupted error (exit 130 or
 * 143), so the run stops at once wherever it is and ends with a sentence and its durations. The
 * signal is passed on to the programs the run started (lib/child-processes.ts), then and again as
 * the process exits (the abandoned work may have started one since). A second Ctrl-C ends the
 * process without waiting for anything.
 */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (controller.signal.aborted) process.exit(new Interrupted(signal).exitCode);
    signalChildren(signal);
    process.once('exit', () => signalChildren(signal));
    controller.abort(new Interrupted(signal));
  };
  process.on('SIGINT', stop('SIGINT'));
  process.on('SIGTERM', stop('SIGTERM'));
  return controller.signal;
}
