// The `current` provider: the cluster of the current kubeconfig context (KUBECONFIG and
// --context honoured), used as it is: nothing is started or installed for ingress. A missing
// ingress controller is reported with the fix; images are pushed to REGISTRY in prod.
import { docker } from '../images/docker.ts';
import type { ImageKey, ImageRefs } from '../types.ts';
import { DeployError } from '../errors.ts';
import { listObjects } from '../kube/apply.ts';
import type { Cluster } from '../kube/client.ts';
import { KINDS, ingressAddress } from '../kinds.ts';
import { getIngressClass, getIngressController, INGRESS_NGINX, ingressControllerReady, waitForIngressController } from './ingress.ts';
import { probeTcp, registryAddress } from './registry-probe.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider } from './provider.ts';

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
  | { kind: 'push'; registry: string; targets: Partial<ImageRefs> };

export function planCurrentImages(refs: Partial<ImageRefs>, ctx: Pick<ClusterContext, 'environment' | 'settings'>): CurrentImagePlan {
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
    (Object.entries(refs) as [ImageKey, string][]).map(([key, ref]) => [key, registryRef(ref, registry)]),
  ) as Partial<ImageRefs>;
  return { kind: 'push', registry, targets };
}

/** The image step: nothing in dev; in prod, `docker tag` + `docker push` to REGISTRY when set. */
export async function loadImagesCurrent(refs: Partial<ImageRefs>, ctx: ClusterContext): Promise<Partial<ImageRefs>> {
  const plan = planCurrentImages(refs, ctx);
  if (plan.kind === 'none') {
    ctx.log(plan.message);
    return refs;
  }
  for (const [key, source] of Object.entries(refs) as [ImageKey, string][]) {
    const target = plan.targets[key]!;
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

/**
 * prod with REGISTRY: something must answer at the registry's address before the run builds,
 * installs or applies anything, or the push would fail only after every image was built.
 */
export async function checkRegistryAnswers(ctx: Pick<ClusterContext, 'environment' | 'settings'>, probe = probeTcp): Promise<string | undefined> {
  const registry = ctx.settings.REGISTRY?.trim();
  if (ctx.environment !== 'prod' || !registry) return undefined;
  const { host, port } = registryAddress(registry);
  const reason = await probe(host, port);
  if (reason === undefined) return `registry ${host}:${port} answers`;
  throw new DeployError(
    `The images cannot be pushed: REGISTRY=${registry} names a registry at ${host}:${port}, and ${reason}. Nothing was built, installed or applied. ` +
      `Fix: start that registry (the sandbox's: \`npm run controlplane -- start --pods real --registry\` prints its REGISTRY), or set REGISTRY (env/prod.env, .env or the environment) to a registry this machine can push to and the cluster's nodes can pull from.`,
  );
}

/** The first address an Ingress controller published for an Ingress of the namespace. */
export async function publishedAddress(cluster: Cluster, namespace: string): Promise<string | undefined> {
  const list = await listObjects(cluster, KINDS.Ingress.ref.apiVersion, KINDS.Ingress.ref.kind, namespace);
  return (list?.items ?? []).map(ingressAddress).find(Boolean);
}

export const NO_INGRESS_FIX =
  'install ingress-nginx: `helm upgrade --install ingress-nginx ingress-nginx --repo https://kubernetes.github.io/ingress-nginx --namespace ingress-nginx --create-namespace` ' +
  '(on minikube: `minikube addons enable ingress`), or use --cluster minikube or --cluster kind, which install it themselves.';

export const currentProvider: ClusterProvider = {
  name: 'current',
  ingressFix: `make sure an ingress controller for class ${INGRESS_NGINX.className} runs: ${NO_INGRESS_FIX}`,

  checkImageTarget: (ctx) => checkRegistryAnswers(ctx),

  // The current context is used as it is: there is nothing to start.
  async ensureCluster(ctx) {
    return { context: ctx.kubeContext, summary: ctx.kubeContext ? `context ${ctx.kubeContext}` : 'current context' };
  },

  async findCluster(ctx) {
    return { context: ctx.kubeContext, summary: ctx.kubeContext ? `context ${ctx.kubeContext}` : 'current context' };
  },

  async ensureIngress(cluster, ctx) {
    const controller = await getIngressController(cluster);
    if (controller) {
      if (!(await ingressControllerReady(cluster))) {
        await waitForIngressController(cluster, ctx, `check its pods: \`kubectl -n ${INGRESS_NGINX.namespace} get pods\`.`);
      }
      return `Ingress controller: ingress-nginx available in ${INGRESS_NGINX.namespace}`;
    }
    const cls = await getIngressClass(cluster);
    if (cls) return `Ingress controller: IngressClass ${INGRESS_NGINX.className} (controller ${cls.spec?.controller ?? 'unknown'})`;
    throw new DeployError(
      `The cluster of context "${cluster.context}" has no ingress controller for class ${INGRESS_NGINX.className}: no IngressClass ${INGRESS_NGINX.className} and no ` +
        `Deployment ${INGRESS_NGINX.namespace}/${INGRESS_NGINX.deployment}. The Ingress would never get an address, so nothing was applied. Fix: ${NO_INGRESS_FIX}`,
    );
  },

  loadImages: loadImagesCurrent,

  async address(cluster, _ctx, namespace): Promise<ClusterAddress> {
    return { ingress: await publishedAddress(cluster, namespace), serves: true };
  },

  async purge() {
    return 'the current context\'s cluster is not todo-deploy\'s to delete: nothing purged';
  },
};
