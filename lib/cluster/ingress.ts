// The ingress controller, as every provider needs it: ingress-nginx's controller Deployment
// rolled out (an Ingress created before its admission webhook answers is refused), and its
// admission Jobs finished (they create the webhook's certificate and patch it in). Waiting is
// by watch, like every gate; the verdicts are pure functions of the objects.
import type { Cluster } from '../kube/client.ts';
import { listObjects } from '../kube/apply.ts';
import { watchUntil, GateFailed, GateTimeout } from '../kube/watch.ts';
import { KINDS, deploymentVerdict, jobStatus, type Verdict } from '../kinds.ts';
import { DeployError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { deadlineOf, type ClusterContext } from './provider.ts';

/** An ingress controller's Deployment, and whether it comes with ingress-nginx's admission Jobs. */
export interface IngressControllerRef {
  /** What to call it in messages. */
  name: string;
  namespace: string;
  deployment: string;
  admissionJobs: boolean;
}

export const INGRESS_NGINX = { name: 'ingress-nginx', namespace: 'ingress-nginx', deployment: 'ingress-nginx-controller', className: 'nginx', admissionJobs: true } as const;

/** The sandbox's controller on a real node (lib/cluster/sandbox-ingress.ts), serving class nginx. */
export const TRAEFIK = { name: 'Traefik', namespace: 'traefik', deployment: 'traefik', service: 'traefik', admissionJobs: false } as const satisfies IngressControllerRef & { service: string };

const DEPLOYMENT = KINDS.Deployment.ref;
const INGRESS_CLASS = KINDS.IngressClass.ref;
const ADMISSION_SELECTOR = 'app.kubernetes.io/component=admission-webhook';

/** Admission Jobs: all succeeded (none at all counts as done); a failed one ends the wait. Pure. */
export function admissionJobsVerdict(jobs: KubeObject[]): Verdict {
  const failed = jobs.find((j) => jobStatus(j).state === 'Failed');
  if (failed) return { done: false, failed: `The ingress-nginx admission Job ${failed.metadata.name} failed.` };
  const pending = jobs.filter((j) => !jobStatus(j).done);
  return { done: pending.length === 0, progress: pending.length ? `admission jobs: waiting for ${pending.map((j) => j.metadata.name).join(', ')}` : 'admission jobs done' };
}

export async function getIngressController(cluster: Cluster, controller: IngressControllerRef = INGRESS_NGINX): Promise<KubeObject | undefined> {
  const list = await listObjects(cluster, DEPLOYMENT.apiVersion, DEPLOYMENT.kind, controller.namespace, undefined, `metadata.name=${controller.deployment}`);
  return list?.items[0];
}

export async function getIngressClass(cluster: Cluster, name: string = INGRESS_NGINX.className): Promise<KubeObject | undefined> {
  const list = await listObjects(cluster, INGRESS_CLASS.apiVersion, INGRESS_CLASS.kind, undefined, undefined, `metadata.name=${name}`);
  return list?.items[0];
}

/** True when the controller Deployment exists and is fully rolled out (available). */
export async function ingressControllerReady(cluster: Cluster, controller: IngressControllerRef = INGRESS_NGINX): Promise<boolean> {
  const d = await getIngressController(cluster, controller);
  return d !== undefined && deploymentVerdict(d).done;
}

/**
 * Waits until the controller's Deployment (ingress-nginx's unless told) exists and is rolled
 * out, then until its admission Jobs have finished. `fix` tells the user what to check when it
 * does not happen.
 */
export async function waitForIngressController(cluster: Cluster, ctx: ClusterContext, fix: string, controller: IngressControllerRef = INGRESS_NGINX): Promise<void> {
  const deadline = deadlineOf(ctx);
  const where = `${controller.namespace}/${controller.deployment}`;
  try {
    await watchUntil(cluster, { kind: DEPLOYMENT, namespace: controller.namespace, name: controller.deployment }, (items) => deploymentVerdict(items[0]), {
      deadline,
      signal: ctx.signal,
      goal: `the ingress controller Deployment ${where} to become available`,
      onProgress: (text) => ctx.log(`ingress controller: ${text}`),
    });
    if (!controller.admissionJobs) return;
    await watchUntil(cluster, { kind: KINDS.Job.ref, namespace: controller.namespace, labelSelector: ADMISSION_SELECTOR }, admissionJobsVerdict, {
      deadline,
      signal: ctx.signal,
      goal: 'the ingress-nginx admission Jobs to complete',
      onProgress: (text) => ctx.log(`ingress controller: ${text}`),
    });
  } catch (err) {
    if (err instanceof GateTimeout || err instanceof GateFailed) {
      const why = controller.admissionJobs ? "it would be refused by the controller's admission webhook" : 'nothing would give it an address';
      throw new DeployError(`${err.message} No Ingress was applied (${why}). Fix: ${fix}`);
    }
    throw err;
  }
}
