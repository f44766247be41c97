// Choosing the cluster provider: --cluster minikube|kind|current|sandbox, defaulting to
// minikube in dev and the current context in prod. The provider's tool is checked before
// anything runs, so a missing minikube is a usage problem (exit 2) with how to install it.
import type { Environment } from '../config.ts';
import { UsageError } from '../errors.ts';
import { currentProvider } from './current.ts';
import { kindProvider } from './kind.ts';
import { minikubeProvider } from './minikube.ts';
import { PROVIDER_NAMES, defaultProviderName, parseProviderName, type ClusterProvider, type ProviderName } from './provider.ts';
import { sandboxProvider } from './sandbox.ts';
import { findTool, missingToolError } from './tools.ts';

export const PROVIDERS: Record<ProviderName, ClusterProvider> = {
  minikube: minikubeProvider,
  kind: kindProvider,
  current: currentProvider,
  sandbox: sandboxProvider,
};

export { defaultProviderName, parseProviderName };

export const ALTERNATIVES: Record<ProviderName, string> = {
  minikube: '--cluster minikube (a minikube profile)',
  kind: '--cluster kind (a kind cluster in Docker)',
  current: '--cluster current (the cluster of your kubeconfig\'s current context)',
  sandbox: '--cluster sandbox (the project\'s own control plane: no Docker needed, pods are simulated)',
};

export interface Selection {
  provider: ClusterProvider;
  /** True when --cluster was not given. */
  defaulted: boolean;
}

/**
 * The provider for a run, its tools checked: minikube and kind need their CLI (and Docker for
 * `up`, which builds and loads images). --context belongs to `current` alone.
 */
export async function selectProvider(name: ProviderName | undefined, environment: Environment, options: { needsDocker: boolean; kubeContext?: string }): Promise<Selection> {
  const chosen = name ?? defaultProviderName(environment);
  const provider = PROVIDERS[chosen];
  const defaulted = name === undefined;
  if (options.kubeContext && chosen !== 'current') {
    throw new UsageError(`--context ${options.kubeContext} applies to --cluster current only; the ${chosen} provider uses its own context. Fix: drop --context, or add --cluster current.`);
  }
  const others = (PROVIDER_NAMES.filter((n) => n !== chosen) as ProviderName[]).map((n) => ALTERNATIVES[n]);
  const why = `The cluster provider ${chosen}${defaulted ? ` (the default for --env ${environment})` : ''} needs it`;
  if (provider.tool && !(await findTool(provider.tool))) {
    throw missingToolError(provider.tool, why, `or choose another cluster: ${others.join('; ')}`);
  }
  if (options.needsDocker && (chosen === 'minikube' || chosen === 'kind') && !(await findTool('docker'))) {
    throw missingToolError('docker', why, `or use ${ALTERNATIVES.sandbox}`);
  }
  return { provider, defaulted };
}
