// The ClusterContext `up`, `down` and `doctor` hand to a provider, built in one place.
import type { Config } from '../config.ts';
import { redact } from '../output.ts';
import type { ClusterContext } from './provider.ts';

/**
 * What the cluster provider sees: settings from the env files with the process environment over
 * them, and `defaults` (the profile of a cluster found running) under both. `doctor` passes what
 * it could read when the configuration itself is broken.
 */
export function providerContext(
  config: Pick<Config, 'environment' | 'fileSettings' | 'readyTimeoutSeconds'>,
  options: { context?: string; signal?: AbortSignal; defaults?: Record<string, string> },
  log: (line: string) => void,
): ClusterContext {
  return {
    environment: config.environment,
    settings: { ...options.defaults, ...config.fileSettings, ...process.env },
    kubeContext: options.context,
    log,
    redact,
    signal: options.signal,
    timeoutSeconds: config.readyTimeoutSeconds,
  };
}
