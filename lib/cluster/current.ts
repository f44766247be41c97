// The `current` provider: the cluster of the current kubeconfig context, used as it is.
// This module holds its image step; starting nothing, the ingress check and the address are
// completed with the other providers (issue 6).
import { docker } from '../images/docker.ts';
import type { ComponentKey, ImageRefs } from '../images/build.ts';
import type { ClusterContext, ClusterProvider } from './provider.ts';

/**
 * True when the first path component of a ref names a registry host (it has a dot or a port,
 * or is localhost), as Docker decides it: registry.example.com/todo/backend:1 is qualified,
 * todo-backend:1 and team/backend:1 are not.
 */
export function hasRegistryHost(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash === -1) return false;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** The ref an image gets in REGISTRY: REGISTRY/<ref>, unless the ref already names a registry. */
export function registryRef(ref: string, registry: string): string {
  if (hasRegistryHost(ref)) return ref;
  return `${registry.replace(/\/+$/, '')}/${ref}`;
}

/** What the image step of `current` does, decided from the settings alone (pure). */
export type CurrentImagePlan =
  | { kind: 'none'; message: string }
  | { kind: 'push'; registry: string; targets: ImageRefs };

export function planCurrentImages(refs: ImageRefs, ctx: Pick<ClusterContext, 'environment' | 'settings'>): CurrentImagePlan {
  const registry = ctx.settings.REGISTRY?.trim();
  if (ctx.environment === 'dev') {
    return {
      kind: 'none',
      message: 'current context (dev): images are not loaded; the cluster uses the local Docker engine\'s images (Docker Desktop, or `eval $(minikube docker-env)` before `up`).',
    };
  }
  if (!registry) {
    return {
      kind: 'none',
      message: `current context (prod): REGISTRY is not set, so nothing is pushed; the cluster's nodes must be able to pull ${Object.values(refs).join(', ')} themselves. Set REGISTRY (for example registry.example.com/todo) to push them there.`,
    };
  }
  const targets = Object.fromEntries(
    (Object.entries(refs) as [ComponentKey, string][]).map(([key, ref]) => [key, registryRef(ref, registry)]),
  ) as ImageRefs;
  return { kind: 'push', registry, targets };
}

/** The image step: nothing in dev; in prod, `docker tag` + `docker push` to REGISTRY when set. */
export async function loadImagesCurrent(refs: ImageRefs, ctx: ClusterContext): Promise<ImageRefs> {
  const plan = planCurrentImages(refs, ctx);
  if (plan.kind === 'none') {
    ctx.log(plan.message);
    return refs;
  }
  for (const key of Object.keys(refs) as ComponentKey[]) {
    const source = refs[key];
    const target = plan.targets[key];
    if (target !== source) {
      await docker(['tag', source, target], { redact: ctx.redact, what: `Tagging ${source} as ${target}` });
    }
    ctx.log(`pushing ${target}`);
    await docker(['push', target], {
      redact: ctx.redact,
      what: `Pushing ${target} to ${plan.registry}`,
      fix: `log in to the registry (\`docker login ${plan.registry.split('/')[0]}\`) and check that REGISTRY is right.`,
    });
  }
  return plan.targets;
}

export const currentProvider: ClusterProvider = {
  name: 'current',
  // The current context is used as it is: there is nothing to start.
  async ensureCluster() {},
  // The ingress controller check comes with the other providers (issue 6).
  async ensureIngress() {},
  loadImages: loadImagesCurrent,
  async address() {
    return {};
  },
};
