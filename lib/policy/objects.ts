// Small pure helpers over Kubernetes objects shared by the rules: naming, pod templates,
// label selectors, quantities, durations and image references.
import type { KubeObject, SourcedObject } from '../types.ts';

export type Path = (string | number)[];

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'IngressClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'Node',
]);

export function isClusterScoped(object: KubeObject): boolean {
  return CLUSTER_SCOPED.has(object.kind);
}

/** kind/namespace/name, or kind/name for a cluster-scoped object or one without a namespace. */
export function refOf(object: KubeObject): string {
  const ns = object.metadata?.namespace;
  return ns && !isClusterScoped(object) ? `${object.kind}/${ns}/${object.metadata.name}` : `${object.kind}/${object.metadata?.name}`;
}

export function ofKind(objects: readonly SourcedObject[], ...kinds: string[]): SourcedObject[] {
  return objects.filter((s) => kinds.includes(s.object.kind));
}

export function namespaceOf(s: SourcedObject): string | undefined {
  return s.object.metadata?.namespace;
}

/** Same namespace, treating "not set" as equal only to "not set". */
export function sameNamespace(a: SourcedObject, b: SourcedObject): boolean {
  return namespaceOf(a) === namespaceOf(b);
}

export function findByName(objects: readonly SourcedObject[], kind: string, name: string, namespace: string | undefined): SourcedObject | undefined {
  return objects.find((s) => s.object.kind === kind && s.object.metadata?.name === name && namespaceOf(s) === namespace);
}

export interface PodTemplate {
  owner: SourcedObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: any;
  /** Path from the owner's root to the template (its metadata and spec hang below). */
  path: Path;
}

/** Every pod template in the set: Deployments and other workloads, CronJobs, bare Pods. */
export function podTemplates(objects: readonly SourcedObject[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const s of objects) {
    const o = s.object;
    let template: any;
    let path: Path;
    switch (o.kind) {
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
      case 'ReplicaSet':
      case 'Job':
        template = o.spec?.template;
        path = ['spec', 'template'];
        break;
      case 'CronJob':
        template = o.spec?.jobTemplate?.spec?.template;
        path = ['spec', 'jobTemplate', 'spec', 'template'];
        break;
      case 'Pod':
        template = o;
        path = [];
        break;
      default:
        continue;
    }
    if (!template || typeof template !== 'object') continue;
    out.push({
      owner: s,
      labels: template.metadata?.labels ?? {},
      annotations: template.metadata?.annotations ?? {},
      spec: template.spec ?? {},
      path,
    });
  }
  return out;
}

export interface ContainerAt {
  container: any;
  /** Path from the owner's root to the container. */
  path: Path;
  init: boolean;
}

export function containersOf(t: PodTemplate): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const [field, init] of [['initContainers', true], ['containers', false]] as const) {
    const list = t.spec?.[field];
    if (!Array.isArray(list)) continue;
    list.forEach((container: any, i: number) => out.push({ container: container ?? {}, path: [...t.path, 'spec', field, i], init }));
  }
  return out;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics; an empty selector matches everything. */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== String(v)) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = (e.values ?? []).map(String);
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function isEmptySelector(selector: LabelSelector | undefined | null): boolean {
  return !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
}

/** A Service's plain map selector matches when every key/value is among the labels. */
export function mapSelectorMatches(selector: Record<string, unknown> | undefined, labels: Record<string, string>): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === String(v));
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS1035_LABEL = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A resource quantity ("250m", "128Mi", "1e3", 2) as a number, or undefined when malformed. */
export function parseQuantity(q: unknown): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) ? q : undefined;
  if (typeof q !== 'string') return undefined;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/.exec(q.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  if (m[2]) return base * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return base * (BINARY[suffix] ?? DECIMAL[suffix]!);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration string ("24h", "15m", "1h30m") in milliseconds, or undefined when malformed. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  return consumed === value.length && consumed > 0 ? total : undefined;
}

export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

/** Splits registry/path:tag@digest; a colon before the last slash belongs to a registry port. */
export function parseImage(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) return { repository: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { repository: rest, digest };
}

export function annotationsOf(o: KubeObject): Record<string, string> {
  return (o.metadata?.annotations ?? {}) as Record<string, string>;
}

export function labelsOf(o: KubeObject): Record<string, string> {
  return (o.metadata?.labels ?? {}) as Record<string, string>;
}

/** The annotation that carries a human justification (NetworkPolicies, Roles). */
export const WHY_ANNOTATION = 'todo-deploy.dev/why';

export function asArray<T = any>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
