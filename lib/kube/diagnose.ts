// Reading what explains a failed gate from the cluster: a Deployment's pods, the events about
// them and their last log lines, put into words by the pure explanations of lib/diagnose.ts.
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeObject } from '../types.ts';
import type { Cluster } from './client.ts';
import { listObjects } from './apply.ts';
import { KINDS } from '../kinds.ts';
import { DeployError } from '../errors.ts';
import { GateTimeout } from './watch.ts';
import { explainEvents, explainPod, podsWithLogs, relatedEvents, selectorOf, type ContainerStatus } from '../diagnose.ts';

async function lastLogLines(cluster: Cluster, pod: KubeObject, lines: number): Promise<string[]> {
  const out: string[] = [];
  for (const c of (pod.spec?.containers as Array<{ name: string }>) ?? []) {
    const tail = await containerLogTail(cluster, pod, c.name, lines, false);
    if (tail) out.push(`logs of ${pod.metadata.name}/${c.name}:\n${tail.split('\n').map((l) => `      ${l}`).join('\n')}`);
  }
  return out;
}

/**
 * The last `lines` lines a container wrote, '' when there are none (never started, or a node
 * without a kubelet log endpoint). With `previousWhenRestarting`, a container waiting to start
 * again after exiting (a crash loop, whose current run has written nothing) gives its previous
 * run's lines, the ones that say why it exited.
 */
export async function containerLogTail(cluster: Cluster, pod: KubeObject, container: string, lines: number, previousWhenRestarting = true): Promise<string> {
  const status = [...((pod.status?.initContainerStatuses as ContainerStatus[]) ?? []), ...((pod.status?.containerStatuses as ContainerStatus[]) ?? [])].find((c) => c.name === container);
  const previous = previousWhenRestarting && Boolean(status?.state?.waiting) && (status?.restartCount ?? 0) > 0;
  try {
    const text = await cluster.kc.makeApiClient(CoreV1Api).readNamespacedPodLog({ name: pod.metadata.name, namespace: pod.metadata.namespace!, container, tailLines: lines, previous });
    return String(text ?? '').trimEnd();
  } catch {
    return '';
  }
}

/** A diagnosis of a Deployment that did not roll out: its pods, their reasons, warnings, logs. */
export async function diagnoseDeployment(cluster: Cluster, deployment: KubeObject, logLines = 20): Promise<string> {
  const ns = deployment.metadata.namespace;
  const selector = selectorOf(deployment);
  const pods = selector ? ((await listObjects(cluster, KINDS.Pod.ref.apiVersion, KINDS.Pod.ref.kind, ns, selector))?.items ?? []) : [];
  const lines = [`Deployment ${ns}/${deployment.metadata.name}: ${pods.length} pod(s)`];
  if (pods.length === 0) lines.push('  no pods were created (check the ReplicaSet events below, quota or admission errors)');
  for (const pod of pods) lines.push(`  ${explainPod(pod)}`);
  const events = (await listObjects(cluster, KINDS.Event.ref.apiVersion, KINDS.Event.ref.kind, ns))?.items ?? [];
  const warnings = explainEvents(relatedEvents(deployment, pods, events));
  if (warnings.length) lines.push('  recent warnings:', ...warnings.map((w) => `    ${w}`));
  for (const pod of podsWithLogs(pods)) {
    lines.push(...(await lastLogLines(cluster, pod, logLines)).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}

/** What a failed gate's message may add that only the cluster's provider knows. */
export interface GateHints {
  /** How to get an ingress controller publishing addresses on this cluster. */
  ingressFix?: string;
}

const DEFAULT_INGRESS_FIX = 'make sure an ingress controller for class nginx runs.';

/**
 * The error a failed gate ends the run with, explained by kind: a Deployment by its pods, events
 * and logs; an Ingress without an address by the provider's fix. Other kinds keep the message.
 */
export async function diagnoseGate(cluster: Cluster, subject: KubeObject, err: Error, hints: GateHints): Promise<Error> {
  if (subject.kind === KINDS.Deployment.ref.kind) {
    const diagnosis = await diagnoseDeployment(cluster, subject).catch((e: Error) => `(diagnosis failed: ${e.message})`);
    return new DeployError(`${err.message}\n${diagnosis}`);
  }
  if (subject.kind === KINDS.Ingress.ref.kind && err instanceof GateTimeout) {
    return new DeployError(`${err.message} No ingress controller published an address. Fix: ${hints.ingressFix ?? DEFAULT_INGRESS_FIX}`);
  }
  return err;
}
