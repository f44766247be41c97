// What `up` would change: each planned object against the live one, classified as create,
// update (with the changed fields), unchanged, or prune (live, managed by todo-deploy, and no
// longer in the plan). Pure: the live objects come from lib/kube/live.ts, one list per kind.
//
// "Unchanged" means a server-side apply of the planned object would change nothing we own:
//   - every field the plan sets has the same value live (the server's defaults and other
//     managers' fields are not ours, so fields the plan does not set are ignored), and
//   - no field our field manager owns live is missing from the plan (the apply would remove
//     it), read from the object's managedFields.
// Values of a Secret's data are never part of the result: a change there names its key only.
import type { KubeObject } from './types.ts';
import { apiGroup } from './order.ts';

export type Action = 'create' | 'update' | 'unchanged' | 'prune';

export interface FieldChange {
  /** Where, e.g. spec.template.spec.containers[name=backend].image */
  path: string;
  /** added: the plan sets it, live lacks it; changed: both have it, different; removed: ours live, not in the plan. */
  change: 'added' | 'changed' | 'removed';
  /** Live value (absent for added; SECRET_VALUE for a Secret's data). */
  from?: unknown;
  /** Planned value (absent for removed; SECRET_VALUE for a Secret's data). */
  to?: unknown;
}

export interface DiffEntry {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  action: Action;
  /** For update: what differs. Empty otherwise. */
  changes: FieldChange[];
  /** For create: the live object exists but is being deleted, so the apply must wait for it to go. */
  terminating?: boolean;
}

/** Stands in for every value of a Secret's data in a diff. */
export const SECRET_VALUE = '(secret value hidden)';

/** Identity of an object across apiVersions of its group: group/Kind/namespace/name. */
export function objectKey(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string {
  return `${apiGroup(object.apiVersion)}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

// ---------------------------------------------------------------------------------------------
// Values

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Binary and decimal suffixes of a Kubernetes quantity. */
const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A quantity (500m, 0.5, 1Gi, 1024Mi) as a number; undefined when it is not one. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * QUANTITY_SUFFIX[match[2]!]!;
}

/** Keys whose values are quantities the API server rewrites in its canonical form (0.5 -> 500m). */
const QUANTITY_PARENTS = new Set(['limits', 'requests', 'hard', 'capacity', 'allocatable']);

function sameScalar(a: unknown, b: unknown, parentKey: string | undefined): boolean {
  if (a === b) return true;
  if (parentKey && QUANTITY_PARENTS.has(parentKey)) {
    const qa = parseQuantity(a);
    const qb = parseQuantity(b);
    // Relative tolerance: 0.1 and 100m differ only in floating-point rounding.
    if (qa !== undefined && qb !== undefined) return Math.abs(qa - qb) <= 1e-9 * Math.max(1, Math.abs(qa), Math.abs(qb));
  }
  return false;
}

/** Deep equality of JSON values, with quantities compared by amount (parentKey: the key of the object holding a and b). */
function deepEqual(a: unknown, b: unknown, parentKey?: string, key?: string): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i], parentKey, key));
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => deepEqual(a[k], b[k], key, k));
  }
  return sameScalar(a, b, parentKey);
}

const isEmpty = (v: unknown) => (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** The key lists of named elements are merged by (containers, env, volumes, ports with names). */
function elementName(element: unknown): string | undefined {
  return isObject(element) && typeof element.name === 'string' ? element.name : undefined;
}

function isNamedList(list: unknown[]): boolean {
  return list.length > 0 && list.every((e) => elementName(e) !== undefined);
}

/**
 * Fields the plan sets that differ live. Objects are compared key by key (live-only keys are
 * the server's or another manager's); lists of named elements by name; other lists as a whole,
 * element by element.
 */
function compareFields(desired: unknown, live: unknown, path: string, key: string | undefined, parentKey: string | undefined, out: FieldChange[]): void {
  // The API server omits empty lists and maps (Go's omitempty): `rules: []` is stored as no rules.
  if ((live === undefined || live === null) && isEmpty(desired)) return;
  if (isObject(desired)) {
    if (!isObject(live)) {
      out.push(live === undefined ? { path, change: 'added', to: desired } : { path, change: 'changed', from: live, to: desired });
      return;
    }
    for (const [child, value] of Object.entries(desired)) {
      if (value === undefined || value === null) continue;
      compareFields(value, live[child], path ? `${path}.${child}` : child, child, key, out);
    }
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      out.push(live === undefined ? { path, change: 'added', to: desired } : { path, change: 'changed', from: live, to: desired });
      return;
    }
    if (isNamedList(desired) && live.every((e) => elementName(e) !== undefined)) {
      for (const element of desired) {
        const name = elementName(element)!;
        compareFields(element, live.find((e) => elementName(e) === name), `${path}[name=${name}]`, key, parentKey, out);
      }
      // Live elements the plan lacks: ours would be removed (see ownedButUnplanned); others are not ours.
      return;
    }
    if (desired.length !== live.length) {
      out.push({ path, change: 'changed', from: live, to: desired });
      return;
    }
    desired.forEach((element, i) => compareFields(element, live[i], `${path}[${i}]`, key, parentKey, out));
    return;
  }
  if (live === undefined) out.push({ path, change: 'added', to: desired });
  else if (!sameScalar(desired, live, parentKey)) out.push({ path, change: 'changed', from: live, to: desired });
}

// ---------------------------------------------------------------------------------------------
// managedFields: what our field manager owns live

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  fieldsV1?: unknown;
}

/** A list element that a managedFields key (k:{...}) or value (v:...) names. */
function findElement(list: unknown[], key: string): unknown {
  const body = key.slice(2);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (key.startsWith('v:')) return list.find((e) => deepEqual(e, parsed));
  if (key.startsWith('i:')) return list[Number(body)];
  if (!isObject(parsed)) return undefined;
  // A key field the plan leaves out was defaulted by the server (a port's protocol): it matches.
  return list.find((e) => isObject(e) && Object.entries(parsed as Record<string, unknown>).every(([k, v]) => e[k] === undefined || deepEqual(e[k], v)));
}

function describeElement(key: string): string {
  const body = key.slice(2);
  try {
    const parsed = JSON.parse(body);
    if (isObject(parsed)) return `[${Object.entries(parsed).map(([k, v]) => `${k}=${String(v)}`).join(',')}]`;
    return `[${String(parsed)}]`;
  } catch {
    return `[${body}]`;
  }
}

/** Lookup of a value by a managedFields key in the live object, for the "from" of a removal. */
function liveValue(live: unknown, key: string): unknown {
  if (key.startsWith('f:')) return isObject(live) ? live[key.slice(2)] : undefined;
  return Array.isArray(live) ? findElement(live, key) : undefined;
}

/** Paths our manager owns live (its fieldsV1 set) that the plan no longer sets. */
function ownedButUnplanned(fields: unknown, desired: unknown, live: unknown, path: string, out: FieldChange[]): void {
  if (!isObject(fields)) return;
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    let planned: unknown;
    let childPath: string;
    if (key.startsWith('f:')) {
      const name = key.slice(2);
      planned = isObject(desired) ? desired[name] : undefined;
      childPath = path ? `${path}.${name}` : name;
    } else if (key.startsWith('k:') || key.startsWith('v:') || key.startsWith('i:')) {
      planned = Array.isArray(desired) ? findElement(desired, key) : undefined;
      childPath = `${path}${describeElement(key)}`;
    } else {
      continue;
    }
    const liveChild = liveValue(live, key);
    if (planned === undefined || planned === null) {
      if (liveChild !== undefined) out.push({ path: childPath, change: 'removed', from: liveChild });
      continue;
    }
    ownedButUnplanned(sub, planned, liveChild, childPath, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Classification

/** Server-managed metadata: never part of a plan, never compared. */
const IGNORED_METADATA = new Set(['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences', 'finalizers']);

function comparable(object: KubeObject): Record<string, unknown> {
  const { status: _status, ...rest } = object;
  const metadata = Object.fromEntries(Object.entries(object.metadata).filter(([k]) => !IGNORED_METADATA.has(k)));
  return { ...rest, metadata };
}

function masked(object: KubeObject, change: FieldChange): FieldChange {
  if (object.kind !== 'Secret' || !/^(data|stringData)(\.|\[|$)/.test(change.path)) return change;
  const hide = (v: unknown) => (v === undefined ? undefined : SECRET_VALUE);
  return { path: change.path, change: change.change, ...(change.from !== undefined ? { from: hide(change.from) } : {}), ...(change.to !== undefined ? { to: hide(change.to) } : {}) };
}

/** The changes applying `desired` over `live` would make to fields `fieldManager` owns (Secret data masked). */
export function fieldChanges(desired: KubeObject, live: KubeObject, fieldManager: string): FieldChange[] {
  const changes: FieldChange[] = [];
  const planned = comparable(desired);
  compareFields(planned, comparable(live), '', undefined, undefined, changes);
  const ours = ((live.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []).filter((m) => m.manager === fieldManager && m.operation === 'Apply');
  for (const entry of ours) ownedButUnplanned(entry.fieldsV1, planned, live, '', changes);
  // The identity (apiVersion: v1 and v2 of one group are one object) is not a change.
  return changes.filter((c) => c.path !== 'apiVersion').map((c) => masked(desired, c));
}

/**
 * Live objects managed by todo-deploy that the plan no longer has: what pruning deletes, and
 * what `diff` lists as prune. The single definition of it, shared by both.
 */
export function pruneCandidates(planned: readonly KubeObject[], live: readonly KubeObject[]): KubeObject[] {
  const keys = new Set(planned.map(objectKey));
  return live.filter((o) => !keys.has(objectKey(o)));
}

function entryOf(object: KubeObject, action: Action, changes: FieldChange[] = [], terminating = false): DiffEntry {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    name: object.metadata.name,
    action,
    changes,
    ...(terminating ? { terminating } : {}),
  };
}

/**
 * Every planned object, in plan order, classified against the live objects; then the prune
 * candidates in the order given (callers pass them in deletion order).
 */
export function diffObjects(planned: readonly KubeObject[], live: readonly KubeObject[], fieldManager: string): DiffEntry[] {
  const byKey = new Map(live.map((o) => [objectKey(o), o]));
  const entries = planned.map((object) => {
    const current = byKey.get(objectKey(object));
    if (!current) return entryOf(object, 'create');
    if (current.metadata.deletionTimestamp) return entryOf(object, 'create', [], true);
    const changes = fieldChanges(object, current, fieldManager);
    return entryOf(object, changes.length ? 'update' : 'unchanged', changes);
  });
  return [...entries, ...pruneCandidates(planned, live).map((o) => entryOf(o, 'prune'))];
}

export interface DiffSummary {
  create: number;
  update: number;
  unchanged: number;
  prune: number;
}

export function summarize(entries: readonly DiffEntry[]): DiffSummary {
  const summary: DiffSummary = { create: 0, update: 0, unchanged: 0, prune: 0 };
  for (const e of entries) summary[e.action]++;
  return summary;
}

/** True when applying the plan would change something (create, update or prune). */
export function hasChanges(entries: readonly DiffEntry[]): boolean {
  return entries.some((e) => e.action !== 'unchanged');
}

// ---------------------------------------------------------------------------------------------
// Output

const MARK: Record<Action, string> = { create: '+ create ', update: '~ update ', unchanged: '  same   ', prune: '- prune  ' };

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function entryRef(e: Pick<DiffEntry, 'kind' | 'namespace' | 'name'>): string {
  return `${e.kind}/${e.namespace ? `${e.namespace}/` : ''}${e.name}`;
}

/** The text report: one line per object that would change, its fields below it; unchanged objects only counted. */
export function formatDiffText(entries: readonly DiffEntry[], where: string): string {
  const s = summarize(entries);
  if (!hasChanges(entries)) return `No changes: ${s.unchanged} object(s) in ${where} are as planned.`;
  const lines = [`${where}: ${s.create} to create, ${s.update} to update, ${s.prune} to prune, ${s.unchanged} unchanged.`];
  for (const e of entries) {
    if (e.action === 'unchanged') continue;
    lines.push(`${MARK[e.action]} ${entryRef(e)}${e.terminating ? ' (being deleted; created again once gone)' : ''}`);
    for (const c of e.changes) {
      const detail = c.change === 'added' ? `(none) -> ${show(c.to)}` : c.change === 'removed' ? `${show(c.from)} -> (removed)` : `${show(c.from)} -> ${show(c.to)}`;
      lines.push(`      ${c.path}: ${detail}`);
    }
  }
  return lines.join('\n');
}

/** The JSON report: the summary and every object that would change (unchanged ones only counted). */
export function formatDiffJson(entries: readonly DiffEntry[], context: Record<string, unknown>): string {
  return JSON.stringify({ ...context, changed: hasChanges(entries), summary: summarize(entries), changes: entries.filter((e) => e.action !== 'unchanged') }, null, 2);
}
