// `npm run status`: every entity of the data model with its current state in the words of its
// state-transition diagram, from what the cluster holds now. Pure: objects in, rows out; the
// reading is lib/kube/status.ts, the drawing scripts/status.ts.
import { deploymentStatus, endpointsStatus, ingressAddress, namespaceStatus } from './kinds.ts';
import type { ContainerStatus } from './diagnose.ts';
import type { HelmRelease } from './release/helm-codec.ts';
import type { KubeObject } from './types.ts';

export interface EntityRow {
  /** The data model's entity: "Application Component", "Kubernetes Pod", ... */
  entity: string;
  kind: string;
  name: string;
  /** The state, in the words of the entity's state-transition diagram. */
  state: string;
  /** What the state is read from, briefly ("1/1 ready", "10.0.0.5:8000"). */
  detail?: string;
}

export interface ReleaseRow {
  name: string;
  revision: number;
  status: string;
  /** When the revision was last deployed (RFC 3339). */
  updated?: string;
  description?: string;
  chart: string;
}

export interface StatusReport {
  namespace: string;
  release?: ReleaseRow;
  entities: EntityRow[];
}

export interface ClusterView {
  namespace: string;
  /** The stack's objects (managed by todo-deploy), the Namespace included. */
  objects: readonly KubeObject[];
  pods: readonly KubeObject[];
  endpointSlices: readonly KubeObject[];
  history: readonly HelmRelease[];
  /** Ingress name -> whether http://<address>/ answered with the Ingress's host (Accessible). */
  reachable?: Readonly<Record<string, boolean>>;
}

type Condition = { type: string; status: string; reason?: string };

/**
 * A pod in the data model's words: Pending, ContainerCreating, Running, Ready, ImagePullBackOff,
 * CrashLoopBackOff, OOMKilled, Restarting (and Terminating while it goes).
 */
export function podState(pod: KubeObject): { state: string; detail?: string } {
  if (pod.metadata.deletionTimestamp) return { state: 'Terminating' };
  const statuses = [...((pod.status?.initContainerStatuses as ContainerStatus[]) ?? []), ...((pod.status?.containerStatuses as ContainerStatus[]) ?? [])];
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const ready = ((pod.status?.conditions as Condition[] | undefined) ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const detail = restarts > 0 ? `${restarts} restart(s)` : undefined;
  if (ready) return { state: 'Ready', detail };
  for (const c of statuses) {
    const waiting = c.state?.waiting?.reason;
    if (waiting === 'ImagePullBackOff' || waiting === 'ErrImagePull' || waiting === 'ErrImageNeverPull' || waiting === 'InvalidImageName') return { state: 'ImagePullBackOff', detail: `container ${c.name}: ${waiting}` };
    if (waiting === 'CrashLoopBackOff') {
      const oom = c.lastState?.terminated?.reason === 'OOMKilled';
      return { state: oom ? 'OOMKilled' : 'CrashLoopBackOff', detail: `container ${c.name}, ${c.restartCount ?? 0} restart(s)` };
    }
    if (waiting === 'ContainerCreating' || waiting === 'PodInitializing') return { state: 'ContainerCreating' };
    if (waiting) return { state: waiting, detail: `container ${c.name}` };
  }
  const phase: string = pod.status?.phase ?? 'Pending';
  if (phase === 'Running') return restarts > 0 ? { state: 'Restarting', detail } : { state: 'Running', detail: 'not ready yet' };
  if (phase === 'Pending' && statuses.length > 0) return { state: 'ContainerCreating' };
  return { state: phase };
}

const byKind = (objects: readonly KubeObject[], kind: string) => objects.filter((o) => o.kind === kind).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));

function selectorMatches(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** Every name a pod's containers take from a Secret (env, envFrom, volumes). */
function secretsUsedBy(pod: KubeObject): Set<string> {
  const out = new Set<string>();
  const spec = pod.spec ?? {};
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) out.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) out.add(e.secretRef.name);
  }
  for (const v of spec.volumes ?? []) if (v.secret?.secretName) out.add(v.secret.secretName);
  return out;
}

function releaseRow(history: readonly HelmRelease[]): ReleaseRow | undefined {
  const latest = [...history].sort((a, b) => b.version - a.version)[0];
  if (!latest) return undefined;
  return {
    name: latest.name,
    revision: latest.version,
    status: latest.info.status,
    updated: latest.info.last_deployed,
    description: latest.info.description,
    chart: `${latest.chart.metadata.name}-${latest.chart.metadata.version}`,
  };
}

/**
 * The Deployment Configuration (data model §1): Applied while its components roll out, Running
 * when every one is healthy, Failed when the last revision failed, Rolledback when the deployed
 * revision is a rollback.
 */
function configurationState(history: readonly HelmRelease[], components: readonly EntityRow[]): { state: string; detail: string } {
  const latest = [...history].sort((a, b) => b.version - a.version)[0];
  const healthy = components.filter((c) => c.state === 'Healthy').length;
  const detail = `${healthy}/${components.length} component(s) healthy`;
  if (!latest) return { state: components.length > 0 ? 'Applied' : 'Undefined', detail: `${detail}; no release recorded` };
  if (latest.info.status === 'failed') return { state: 'Failed', detail: `${detail}; revision ${latest.version}: ${latest.info.description ?? 'failed'}` };
  if (latest.info.status !== 'deployed') return { state: 'Applied', detail: `${detail}; revision ${latest.version} ${latest.info.status}` };
  if (latest.info.rollback_revision) return { state: 'Rolledback', detail: `${detail}; revision ${latest.version} rolled back to ${latest.info.rollback_revision}` };
  return { state: components.length > 0 && healthy === components.length ? 'Running' : 'Applied', detail };
}

/** Every entity's state. Pure. */
export function statusReport(view: ClusterView): StatusReport {
  const rows: EntityRow[] = [];
  const objects = view.objects;
  const pods = [...view.pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const components: EntityRow[] = byKind(objects, 'Deployment').map((d) => {
    const s = deploymentStatus(d);
    // The component diagram: Deployed -> Running -> Healthy, or Failed.
    const mine = pods.filter((p) => selectorMatches(d.spec?.selector?.matchLabels, p.metadata.labels));
    const anyReady = mine.some((p) => podState(p).state === 'Ready');
    const state = s.state === 'Healthy' || s.state === 'Failed' ? s.state : anyReady ? 'Running' : 'Deployed';
    return { entity: 'Application Component', kind: 'Deployment', name: d.metadata.name, state, detail: s.progress?.replace(`${d.metadata.name} `, '') };
  });

  const config = configurationState(view.history, components);
  const ns = objects.find((o) => o.kind === 'Namespace');
  rows.push({ entity: 'Deployment Configuration', kind: 'Namespace', name: view.namespace, state: config.state, detail: `${config.detail}${ns ? `; namespace ${namespaceStatus(ns).state}` : '; namespace absent'}` });
  const release = releaseRow(view.history);
  if (release) rows.push({ entity: 'Helm Release', kind: 'Secret', name: release.name, state: release.status, detail: `revision ${release.revision}, ${release.chart}${release.description ? `: ${release.description}` : ''}` });

  for (const c of components) {
    rows.push(c);
    const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === c.name)!;
    for (const p of pods.filter((p) => selectorMatches(d.spec?.selector?.matchLabels, p.metadata.labels))) {
      const s = podState(p);
      rows.push({ entity: 'Kubernetes Pod', kind: 'Pod', name: p.metadata.name, state: s.state, detail: s.detail });
    }
  }
  for (const svc of byKind(objects, 'Service')) {
    const name = svc.metadata.name;
    const selector = svc.spec?.selector as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) {
      rows.push({ entity: 'Service', kind: 'Service', name, state: 'Created', detail: 'no selector' });
      continue;
    }
    const slices = view.endpointSlices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === name);
    const s = endpointsStatus(name, slices);
    rows.push({ entity: 'Service', kind: 'Service', name, state: s.state, detail: s.progress?.replace(`${name} `, '') });
  }
  for (const ing of byKind(objects, 'Ingress')) {
    const address = ingressAddress(ing);
    const host = ing.spec?.rules?.[0]?.host as string | undefined;
    const accessible = address !== undefined && view.reachable?.[ing.metadata.name] === true;
    const state = !address ? 'No Address' : accessible ? 'Accessible' : 'Address Assigned';
    rows.push({ entity: 'Ingress Route', kind: 'Ingress', name: ing.metadata.name, state, detail: address ? `${host ?? '*'} at ${address}${!accessible && view.reachable ? ' (no answer over HTTP)' : ''}` : 'waiting for the ingress controller' });
  }
  const usesAccount = (name: string) => pods.some((p) => p.spec?.serviceAccountName === name);
  for (const sa of byKind(objects, 'ServiceAccount')) {
    rows.push({ entity: 'Service Account', kind: 'ServiceAccount', name: sa.metadata.name, state: usesAccount(sa.metadata.name) ? 'Mounted in Pod' : 'Created' });
  }
  for (const kind of ['Role', 'RoleBinding']) {
    for (const o of byKind(objects, kind)) rows.push({ entity: 'Role & RoleBinding', kind, name: o.metadata.name, state: 'Applied' });
  }
  for (const np of byKind(objects, 'NetworkPolicy')) rows.push({ entity: 'Network Policy', kind: 'NetworkPolicy', name: np.metadata.name, state: 'Applied' });
  const secretsInUse = new Set(pods.flatMap((p) => [...secretsUsedBy(p)]));
  for (const s of byKind(objects, 'Secret')) {
    rows.push({ entity: 'Kubernetes Secret', kind: 'Secret', name: s.metadata.name, state: secretsInUse.has(s.metadata.name) ? 'Mounted in Pod' : 'Stored in etcd', detail: `keys: ${Object.keys(s.data ?? {}).sort().join(', ') || 'none'}` });
  }
  for (const c of byKind(objects, 'Configuration')) rows.push({ entity: 'Dapr Configuration', kind: 'Configuration', name: c.metadata.name, state: 'Applied', detail: c.spec?.mtls?.enabled ? 'mTLS enabled' : undefined });
  for (const c of byKind(objects, 'Component')) rows.push({ entity: 'Dapr Component', kind: 'Component', name: c.metadata.name, state: 'Applied', detail: `${c.spec?.type ?? ''}${c.scopes ? ` for ${(c.scopes as string[]).join(', ')}` : ''}` });
  return { namespace: view.namespace, release, entities: rows };
}

/** How long ago, for the table ("42s", "5m", "3h", "2d"). Pure. */
export function age(iso: string | undefined, now: Date): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** The report as a table. Pure. */
export function formatStatusTable(report: StatusReport, now: Date): string {
  const head = report.release
    ? `Release ${report.release.name} in namespace ${report.namespace}: revision ${report.release.revision}, ${report.release.status}, ${age(report.release.updated, now)} ago (${report.release.chart})`
    : `Namespace ${report.namespace}: no release recorded (npm run up records one)`;
  const rows = report.entities.map((e) => [e.entity, `${e.kind}/${e.name}`, e.state, e.detail ?? '']);
  const header = ['ENTITY', 'OBJECT', 'STATE', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [head, '', line(header), ...rows.map(line)].join('\n');
}
