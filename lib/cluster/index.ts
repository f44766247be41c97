// Choosing the cluster provider: --cluster minikube|kind|current|sandbox; without it, prod
// uses the current context (never a fallback: prod must land where the user points) and dev
// the first cluster that is available (lib/cluster/default.ts). A provider the user forces
// has its tool checked before anything runs, so a missing minikube is a usage problem
// (exit 2) with how to install it.
import type { Environment } from '../config.ts';
import { UsageError } from '../errors.ts';
import { currentProvider } from './current.ts';
import { kindProvider } from './kind.ts';
import { minikubeProvider } from './minikube.ts';
import { PROVIDER_NAMES, defaultProviderName, parseProviderName, type ClusterProvider, type ProviderName } from './provider.ts';
import { sandboxProvider } from './sandbox.ts';
import { findTool, missingToolError } from './tools.ts';
import { devDefault, type DefaultChoice } from './default.ts';

export { devDefault };

export const PROVIDERS: Record<ProviderName, ClusterProvider> = {
  minikube: minikubeProvider,
  kind: kindProvider,
  current: currentProvider,
  sandbox: sandboxProvider,
};

export { defaultProviderName, parseProviderName };

/** The provider with some settings fixed (the detected profile or cluster name), unless the user set them. */
function withSettings(provider: ClusterProvider, fixed: Record<string, string>): ClusterProvider {
  if (Object.keys(fixed).length === 0) return provider;
  const wrap = <C extends { settings: Record<string, string | undefined> }>(ctx: C): C => ({ ...ctx, settings: { ...fixed, ...definedOnly(ctx.settings) } });
  return {
    ...provider,
    ensureCluster: (ctx) => provider.ensureCluster(wrap(ctx)),
    findCluster: (ctx) => provider.findCluster(wrap(ctx)),
    ensureIngress: (cluster, ctx) => provider.ensureIngress(cluster, wrap(ctx)),
    loadImages: (refs, ctx) => provider.loadImages(refs, wrap(ctx)),
    address: (cluster, ctx, namespace) => provider.address(cluster, wrap(ctx), namespace),
    routesReady: provider.routesReady && ((cluster, ctx, namespace) => provider.routesReady!(cluster, wrap(ctx), namespace)),
    provideDapr: provider.provideDapr && ((cluster, ctx) => provider.provideDapr!(cluster, wrap(ctx))),
    purge: (ctx) => provider.purge(wrap(ctx)),
  };
}

function definedOnly(settings: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).filter((e): e is [string, string] => e[1] !== undefined && e[1].trim() !== ''));
}


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
  /** Why this provider, when it was not given: one line for the task tree. */
  why?: string;
}

/**
 * The provider for a run, its tools checked: minikube and kind need their CLI (and Docker for
 * `up`, which builds and loads images). --context belongs to `current` alone.
 */
export async function selectProvider(
  name: ProviderName | undefined,
  environment: Environment,
  options: { needsDocker: boolean; kubeContext?: string; probe?: () => Promise<DefaultChoice> },
): Promise<Selection> {
  const defaulted = name === undefined;
  // --context names the cluster itself: the dev default is then that context, not a probe.
  const probed = defaulted && environment === 'dev' && !options.kubeContext ? await (options.probe ?? devDefault)() : undefined;
  const chosen = name ?? probed?.name ?? (options.kubeContext ? 'current' : defaultProviderName(environment));
  const provider = probed ? withSettings(PROVIDERS[chosen], probed.settings) : PROVIDERS[chosen];
  const why = probed?.why ?? (!defaulted ? undefined : options.kubeContext ? `--context ${options.kubeContext} names a kubeconfig context` : `the default for --env ${environment}`);
  if (options.kubeContext && chosen !== 'current') {
    throw new UsageError(`--context ${options.kubeContext} applies to --cluster current only; the ${chosen} provider uses its own context. Fix: drop --context, or add --cluster current.`);
  }
  const others = (PROVIDER_NAMES.filter((n) => n !== chosen) as ProviderName[]).map((n) => ALTERNATIVES[n]);
  const need = `The cluster provider ${chosen}${defaulted ? ` (chosen by default: ${why})` : ''} needs it`;
  if (provider.tool && !(await findTool(provider.tool))) {
    throw missingToolError(provider.tool, need, `or choose another cluster: ${others.join('; ')}`);
  }
  if (options.needsDocker && (chosen === 'minikube' || chosen === 'kind') && !(await findTool('docker'))) {
    throw missingToolError('docker', need, `or use ${ALTERNATIVES.sandbox}`);
  }
  return { provider, defaulted, why };
}
