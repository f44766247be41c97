// A Dapr control-plane stand-in for the sandbox (kwok's simulated pods, or its real node until
// Dapr itself runs there). It is NOT Dapr: dapr-system gets Deployments and StatefulSets named
// like Dapr's (operator, sidecar injector, sentry, placement, scheduler) whose pods kwok marks
// Running and Ready (or, on the real node, run the pause image), so the Dapr step's readiness wait runs against the real controllers and
// the order "Dapr ready before the backend's pods" is exercised. No sidecar is ever injected.
// Every object says so in its labels and annotations.
import { KubernetesObjectApi, PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../types.ts';
import { DAPR_NAMESPACE, DAPR_WORKLOADS } from './dapr.ts';

export const STAND_IN_LABEL = 'todo-deploy.dev/stand-in';
const NOTE = 'Dapr control-plane stand-in for a simulated (kwok) cluster: not Dapr; injects no sidecar.';
const IMAGE = 'stand-in.invalid/dapr-control-plane-stand-in:none';

const meta = (name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'dapr-stand-in', [STAND_IN_LABEL]: 'true' },
  annotations: { [`${STAND_IN_LABEL}-note`]: NOTE },
});

/**
 * The stand-in's objects: the namespace, then one workload per Dapr control-plane service.
 * On kwok the image is never run; on a real node pass an image that is on the node (the
 * pause image: it runs, does nothing and is Ready). Pure.
 */
export function daprStandInObjects(image = IMAGE): KubeObject[] {
  const workloads = DAPR_WORKLOADS.map((w): KubeObject => {
    const labels = { app: w.name, [STAND_IN_LABEL]: 'true' };
    const template = {
      metadata: { labels, annotations: { [`${STAND_IN_LABEL}-note`]: NOTE } },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: w.name.replace(/^dapr-/, ''),
            image,
            imagePullPolicy: image === IMAGE ? 'IfNotPresent' : 'Never',
            resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '16Mi' } },
          },
        ],
      },
    };
    const spec: Record<string, unknown> = { replicas: 1, selector: { matchLabels: labels }, template };
    if (w.kind === 'StatefulSet') spec.serviceName = w.name;
    return { apiVersion: 'apps/v1', kind: w.kind, metadata: meta(w.name, DAPR_NAMESPACE), spec };
  });
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: meta(DAPR_NAMESPACE) }, ...workloads];
}

/** Applies the stand-in (server-side apply, idempotent). Waiting for it is the Dapr step's job. */
export async function applyDaprStandIn(kc: KubeConfig, image?: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of daprStandInObjects(image)) {
    await api.patch(object, undefined, undefined, 'todo-deploy-sandbox', true, PatchStrategy.ServerSideApply);
  }
}
