// A Dapr control-plane stand-in for the benchmark's simulated cluster (kwok in place of
// kubelets). It is NOT Dapr: dapr-system gets Deployments and StatefulSets named like Dapr's
// control plane (operator, sidecar injector, sentry, placement, scheduler) whose pods kwok
// marks Running and Ready, so `up`'s Dapr step finds an installed, ready Dapr (it would
// otherwise try to install the real one with helm or the Dapr CLI, which needs images from
// the internet). The Dapr CRDs come from the control plane itself (manifests/crds/).
// Created once before anything is measured, for every tool alike; labelled as a stand-in.
import { PatchStrategy } from '@kubernetes/client-node';
import type { Cluster } from '../lib/kube/client.ts';
import { watchUntil } from '../lib/kube/watch.ts';
import type { KubeObject } from '../lib/types.ts';

export const DAPR_NAMESPACE = 'dapr-system';
const STAND_IN_LABEL = 'todo-deploy.dev/stand-in';
const NOTE = 'Dapr control-plane stand-in for the benchmark on a simulated (kwok) cluster: not Dapr; injects no sidecar.';

/** What a ready Dapr control plane (1.14 and later) runs in dapr-system. */
export const DAPR_WORKLOADS = [
  { kind: 'Deployment', name: 'dapr-operator' },
  { kind: 'Deployment', name: 'dapr-sidecar-injector' },
  { kind: 'Deployment', name: 'dapr-sentry' },
  { kind: 'StatefulSet', name: 'dapr-placement-server' },
  { kind: 'StatefulSet', name: 'dapr-scheduler-server' },
] as const;

/**
 * The stand-in's objects: the namespace, then one single-replica workload per Dapr service.
 * On kwok the image never runs; on a real node pass one the node has (the pause image). Pure.
 */
export function daprStandInObjects(image?: string): KubeObject[] {
  const meta = (name: string, namespace?: string) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: { 'app.kubernetes.io/name': name, [STAND_IN_LABEL]: 'true' },
    annotations: { [`${STAND_IN_LABEL}-note`]: NOTE },
  });
  const workloads = DAPR_WORKLOADS.map((w): KubeObject => {
    const labels = { app: w.name, [STAND_IN_LABEL]: 'true' };
    const spec: Record<string, unknown> = {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: w.name.replace(/^dapr-/, ''), image: image ?? 'stand-in.invalid/dapr-stand-in:none', ...(image ? { imagePullPolicy: 'Never' } : {}), resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
        },
      },
    };
    if (w.kind === 'StatefulSet') spec.serviceName = w.name;
    return { apiVersion: 'apps/v1', kind: w.kind, metadata: meta(w.name, DAPR_NAMESPACE), spec };
  });
  return [{ apiVersion: 'v1', kind: 'Namespace', metadata: meta(DAPR_NAMESPACE) }, ...workloads];
}

/** Ready: the controller saw the spec and the one replica is ready. Pure. */
export function workloadReady(o: any): boolean {
  const st = o?.status ?? {};
  return (st.observedGeneration ?? 0) >= (o?.metadata?.generation ?? 1) && (st.readyReplicas ?? 0) >= 1;
}

/** Applies the stand-in (server-side apply) and waits by watch until every workload is ready. */
export async function installDaprStandIn(cluster: Cluster, deadlineMs = 120_000, image?: string): Promise<void> {
  for (const object of daprStandInObjects(image)) {
    await cluster.objects.patch(object, undefined, undefined, 'todo-deploy-bench', true, PatchStrategy.ServerSideApply);
  }
  for (const [plural, kind] of [['deployments', 'Deployment'], ['statefulsets', 'StatefulSet']] as const) {
    const names = DAPR_WORKLOADS.filter((w) => w.kind === kind).map((w) => w.name);
    await watchUntil(
      cluster,
      { kind: { apiVersion: 'apps/v1', kind, plural, namespaced: true }, namespace: DAPR_NAMESPACE },
      (objects) => ({ done: names.every((n) => workloadReady(objects.find((o) => o.metadata.name === n))) }),
      { deadline: Date.now() + deadlineMs, goal: `the Dapr stand-in's ${plural} to be ready` },
    );
  }
}
