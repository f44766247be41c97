// Flags shared by the scripts, and the mapping from setting flags to configuration keys.
import { SETTING_FLAGS, SETTING_KEYS, type SettingKey } from './config.ts';
import { COMMON_OPTIONS, type Options } from './cli.ts';
import { UsageError } from './errors.ts';

/** One string option per configuration setting (--namespace, --replicas, --timeout, ...). */
export const SETTING_OPTIONS: Options = Object.fromEntries(
  SETTING_KEYS.map((key) => [SETTING_FLAGS[key].slice(2), { type: 'string' as const }]),
);

export const CLUSTER_OPTIONS = {
  cluster: { type: 'string', default: 'current' },
  context: { type: 'string' },
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
  --image-tag TAG             tag used with --skip-images (semver or commit SHA, never latest)
  --timeout SECONDS           deadline of each readiness gate (READY_TIMEOUT)`;

export const CLUSTER_HELP = `Cluster:
  --cluster current           the current kubeconfig context (KUBECONFIG honoured)
  --context NAME              use this kubeconfig context instead of the current one`;

/** Only the current-context provider exists so far; the others are refused plainly. */
export function checkCluster(value: unknown): void {
  if (value !== 'current') {
    throw new UsageError(`Unknown cluster provider "${String(value)}" given to --cluster. Fix: use --cluster current (the current kubeconfig context; set KUBECONFIG or --context to choose it).`);
  }
}

/** An AbortSignal that fires on Ctrl-C or SIGTERM, so watches stop and the run ends with a sentence. */
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return controller.signal;
}
