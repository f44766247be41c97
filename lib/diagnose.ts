// Why a gate failed, told from the cluster's own words (the explanations; lib/kube/diagnose.ts
// reads the objects): each pod's phase, the condition that holds it back (Unschedulable, ...),
// its containers' waiting or terminated reasons (ImagePullBackOff, CrashLoopBackOff, OOMKilled),
// recent warning events. Pure.
import type { KubeObject } from './types.ts';

export interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

/** One line per pod saying what keeps it from being ready. Pure. */
export function explainPod(pod: KubeObject): string {
  const name = pod.metadata.name;
  const phase = pod.status?.phase ?? 'Unknown';
  const reasons: string[] = [];
  const conditions = (pod.status?.conditions as Array<{ type: string; status: string; reason?: string; message?: string }> | undefined) ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') reasons.push(`not scheduled: ${scheduled.reason ?? ''}${scheduled.message ? ` (${scheduled.message})` : ''}`.trim());
  for (const c of [...((pod.status?.initContainerStatuses as ContainerStatus[]) ?? []), ...((pod.status?.containerStatuses as ContainerStatus[]) ?? [])]) {
    const waiting = c.state?.waiting;
    const terminated = c.state?.terminated ?? c.lastState?.terminated;
    if (waiting?.reason) reasons.push(`container ${c.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`);
    if (terminated?.reason && terminated.reason !== 'Completed') reasons.push(`container ${c.name} last terminated ${terminated.reason} (exit ${terminated.exitCode ?? '?'})`);
    if (!waiting && !terminated && c.ready === false) reasons.push(`container ${c.name} running but not ready (readiness probe failing)`);
    if ((c.restartCount ?? 0) > 0) reasons.push(`container ${c.name} restarted ${c.restartCount} time(s)`);
  }
  const ready = conditions.find((c) => c.type === 'Ready');
  if (reasons.length === 0 && ready?.status === 'False') reasons.push(`not ready: ${ready.reason ?? ''} ${ready.message ?? ''}`.trim());
  if (reasons.length === 0 && phase === 'Pending') reasons.push('pending, no reason reported yet');
  return `pod ${name}: ${phase}${reasons.length ? `; ${reasons.join('; ')}` : ''}`;
}

/** Warning events, newest last, deduplicated by reason and message. Pure. */
export function explainEvents(events: KubeObject[], limit = 5): string[] {
  const warnings = events
    .filter((e) => e.type === 'Warning')
    .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')));
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of warnings) {
    const line = `${e.involvedObject?.kind ?? ''} ${e.involvedObject?.name ?? ''}: ${e.reason ?? ''} ${e.message ?? ''}`.trim();
    if (!seen.has(line)) {
      seen.add(line);
      lines.push(line);
    }
  }
  return lines.slice(-limit);
}

/** The label selector of a Deployment's pods ("app=backend,tier=api"), or undefined without one. */
export function selectorOf(deployment: KubeObject): string | undefined {
  const labels = deployment.spec?.selector?.matchLabels as Record<string, string> | undefined;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}

/** Events about a Deployment or its pods (and its ReplicaSets, named after it). */
export function relatedEvents(deployment: KubeObject, pods: KubeObject[], events: KubeObject[]): KubeObject[] {
  const names = new Set([deployment.metadata.name, ...pods.map((p) => p.metadata.name)]);
  return events.filter((e) => names.has(e.involvedObject?.name) || String(e.involvedObject?.name ?? '').startsWith(`${deployment.metadata.name}-`));
}

/** The pods worth reading logs of: running, or restarted at least once. */
export function podsWithLogs(pods: KubeObject[], limit = 2): KubeObject[] {
  return pods.filter((p) => p.status?.phase === 'Running' || p.status?.containerStatuses?.some((c: ContainerStatus) => (c.restartCount ?? 0) > 0)).slice(0, limit);
}
