// The ClusterContext `up` and `down` hand to a provider, built in one place.
import type { Config } from '../config.ts';
import { redact } from '../output.ts';
import type { ClusterContext } from './provider.ts';

/** What the cluster provider sees: settings from the env files with the process environment over them. */
export function providerContext(
  config: Config,
  options: { context?: string; signal?: AbortSignal },
  log: (line: string) => void,
): ClusterContext {
  return {
    environment: config.environment,
    settings: { ...config.fileSettings, ...process.env },
    kubeContext: options.context,
    log,
    redact,
    signal: options.signal,
    timeoutSeconds: config.readyTimeoutSeconds,
  };
}
