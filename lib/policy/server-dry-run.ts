// `validate --server`: every object is sent to the current cluster as a server-side apply with
// dryRun=All, so the API server runs its full validation and admission (schemas, CRDs, Pod
// Security, webhooks) without persisting anything. Each rejection becomes a violation of the
// pseudo-rule server/dry-run, with the object's file and line.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeObject, SourcedObject } from '../types.ts';
import type { Rule, Violation } from './types.ts';
import { isClusterScoped, refOf } from './objects.ts';

export const SERVER_RULE: Rule = {
  id: 'server/dry-run',
  entity: 'server',
  title: 'The API server accepts the object in a server-side dry-run apply.',
  fix: 'Correct the object as the API server message says (a field, a missing CRD, a Pod Security level), then validate again.',
  security: false,
  source: 'Issue: validate --server reports what the API server rejects',
  check: () => [],
};

/** The part of KubernetesObjectApi the dry run needs (the real client in use). */
export interface DryRunApi {
  patch(spec: KubernetesObject, pretty?: string, dryRun?: string, fieldManager?: string, force?: boolean, patchStrategy?: PatchStrategy): Promise<KubernetesObject>;
  read(spec: { apiVersion?: string; kind?: string; metadata: { name: string; namespace?: string } }): Promise<KubernetesObject>;
}

export interface SkippedObject {
  object: string;
  file: string;
  line: number;
  reason: string;
}

export interface DryRunResult {
  violations: Violation[];
  skipped: SkippedObject[];
  checked: number;
}

interface ApiError {
  code?: number;
  body?: unknown;
  message?: string;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as ApiError).code;
  return typeof code === 'number' ? code : undefined;
}

/** The API server's Status message when there is one. */
function messageOf(err: unknown): string {
  let body = (err as ApiError).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return typeof body === 'string' && body !== '' ? body : String((err as ApiError).message ?? err);
    }
  }
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m : String((err as ApiError).message ?? err);
}

/** The field an API validation message names ("...is invalid: spec.rules[0].host: Invalid value"), as a path. */
export function fieldPathFromMessage(message: string): (string | number)[] | undefined {
  const m = /is invalid: ([A-Za-z0-9_.[\]-]+): /.exec(message);
  if (!m) return undefined;
  const path: (string | number)[] = [];
  for (const part of m[1]!.split('.')) {
    const re = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!re) return undefined;
    path.push(re[1]!);
    for (const idx of re[2]!.matchAll(/\[(\d+)\]/g)) path.push(Number(idx[1]));
  }
  return path;
}

/** Thrown when the cluster cannot be asked at all (network, credentials): nothing was judged. */
export class DryRunUnavailable extends Error {}

export interface DryRunOptions {
  fieldManager: string;
  /** Turns a transport failure into a sentence (the caller knows the server and context). */
  describeUnreachable(err: unknown): string | undefined;
  /** How each object is sent (e.g. with the managed labels `up` adds). Identity by default. */
  prepare?(object: KubeObject): KubeObject;
}

export async function serverDryRun(objects: readonly SourcedObject[], api: DryRunApi, options: DryRunOptions): Promise<DryRunResult> {
  const violations: Violation[] = [];
  const skipped: SkippedObject[] = [];
  const fail = (err: unknown) => {
    const why = options.describeUnreachable(err);
    if (why) throw new DryRunUnavailable(why);
    const status = statusOf(err);
    if (status === 401 || status === 403) throw new DryRunUnavailable(`The API server refused the credentials of the current context (HTTP ${status}): ${messageOf(err)}`);
  };

  // A dry run cannot create a namespace for the objects after it, so objects whose namespace does
  // not exist yet are listed as not checked rather than reported as rejected.
  const missing = new Set<string>();
  const namespaces = new Set(objects.filter((s) => !isClusterScoped(s.object) && s.object.metadata.namespace).map((s) => s.object.metadata.namespace!));
  for (const ns of namespaces) {
    try {
      await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    } catch (err) {
      fail(err);
      if (statusOf(err) === 404) missing.add(ns);
      else throw err;
    }
  }

  let checked = 0;
  for (const s of objects) {
    const ns = s.object.metadata.namespace;
    if (!isClusterScoped(s.object) && ns && missing.has(ns)) {
      skipped.push({ object: refOf(s.object), file: s.file, line: s.line, reason: `namespace ${ns} does not exist in the cluster yet, and a dry run cannot create it` });
      continue;
    }
    const body = options.prepare ? options.prepare(s.object) : s.object;
    try {
      await api.patch(body as KubernetesObject, undefined, 'All', options.fieldManager, true, PatchStrategy.ServerSideApply);
      checked++;
    } catch (err) {
      fail(err);
      checked++;
      const status = statusOf(err);
      let message = messageOf(err);
      if (status === 404 && /dapr\.io/.test(s.object.apiVersion)) message = `the cluster does not serve ${s.object.apiVersion} ${s.object.kind}: the Dapr CRDs are not installed (${message})`;
      const path = fieldPathFromMessage(message);
      violations.push({ ruleId: SERVER_RULE.id, object: refOf(s.object), file: s.file, line: s.line, message: `the API server rejected it${status ? ` (HTTP ${status})` : ''}: ${message}`, fix: SERVER_RULE.fix, security: false, ...(path ? { path } : {}) });
    }
  }
  return { violations, skipped, checked };
}
