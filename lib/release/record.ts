// The Helm Release entity (data model §12) as values: what a revision holds, and how its status
// moves, with the descriptions Helm itself writes (pkg/action install.go, upgrade.go,
// rollback.go), so `helm history` reads as if Helm had done it. Pure.
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { KubeObject, SourcedObject } from '../types.ts';
import { UsageError } from '../errors.ts';
import { isPending, type HelmChart, type HelmRelease, type ReleaseStatus } from './helm-codec.ts';

export const RELEASE_NAME = 'todo-app';
export const DEFAULT_HISTORY_MAX = 10;

/** --history-max (or HISTORY_MAX): a whole number >= 0; 0 keeps every revision, as Helm's --history-max 0. */
export function historyMax(value: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = value ?? env.HISTORY_MAX;
  if (raw === undefined || raw === '') return DEFAULT_HISTORY_MAX;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--history-max (or HISTORY_MAX) must be a whole number of revisions >= 0, not "${raw}". Fix: give e.g. --history-max 10 (0 keeps every revision).`);
  return Number(raw);
}

/** Annotations that stand in for a Secret's data in a recorded manifest. */
export const SECRET_KEYS_ANNOTATION = 'todo-deploy.dev/secret-keys';
export const SECRET_HASH_ANNOTATION = 'todo-deploy.dev/secret-sha256';

/**
 * A Secret as it may be recorded: its key names and one hash over all of its data, never a value.
 * One hash over everything (not one per key): todo-secrets always holds the 32+ character
 * BETTER_AUTH_SECRET, so the hash cannot be reversed by guessing a weak value on its own.
 */
export function secretWithoutValues(secret: KubeObject): KubeObject {
  const data: Record<string, string> = { ...(secret.data ?? {}) };
  for (const [k, v] of Object.entries((secret.stringData as Record<string, string> | undefined) ?? {})) data[k] = Buffer.from(v, 'utf8').toString('base64');
  const keys = Object.keys(data).sort();
  const hash = createHash('sha256');
  for (const k of keys) hash.update(`${k}\0${data[k]}\0`);
  const { data: _d, stringData: _s, ...rest } = secret;
  return {
    ...rest,
    metadata: {
      ...secret.metadata,
      annotations: { ...(secret.metadata.annotations ?? {}), [SECRET_KEYS_ANNOTATION]: keys.join(','), [SECRET_HASH_ANNOTATION]: hash.digest('hex') },
    },
  };
}

/** Where a recorded object came from, as Helm's "# Source:" line names it. */
export function sourceOf(s: SourcedObject): string {
  const file = s.file.replace(/\\/g, '/');
  const base = file.split('/').pop() ?? file;
  return file.startsWith('manifests/') || /^[^/]+\.ya?ml$/.test(file) ? `${RELEASE_NAME}/templates/${base}` : `${RELEASE_NAME}/${file}`;
}

/**
 * The manifest of a revision: every object as applied, in creation order, each as Helm writes
 * it ("---\n# Source: <template>\n<yaml>\n"). Secrets carry key names and a hash only.
 */
export function releaseManifest(objects: readonly SourcedObject[]): string {
  return objects
    .map((s) => {
      const object = s.object.kind === 'Secret' ? secretWithoutValues(s.object) : s.object;
      return `---\n# Source: ${sourceOf(s)}\n${stringify(object, { lineWidth: 0 })}`;
    })
    .join('');
}

/** The objects of a recorded manifest, each with its Source as file and its document's line. */
export function manifestObjects(manifest: string): SourcedObject[] {
  const out: SourcedObject[] = [];
  const lines = manifest.split('\n');
  let start = 0;
  const flush = (end: number) => {
    const chunk = lines.slice(start, end).join('\n');
    const value = parse(chunk) as KubeObject | null;
    const source = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim();
    if (value && typeof value === 'object') out.push({ object: value, file: source ?? '(recorded manifest)', line: start + 1 });
  };
  lines.forEach((line, index) => {
    if (line !== '---') return;
    if (index > start) flush(index);
    start = index + 1;
  });
  flush(lines.length);
  return out;
}

export interface RevisionInput {
  namespace: string;
  version: number;
  chart: HelmChart;
  config: Record<string, unknown>;
  manifest: string;
  now: Date;
  /** The first revision's first_deployed, carried forward as Helm does. */
  firstDeployed?: string;
}

/** A new revision of an `up`: pending-install when nothing was ever deployed, else pending-upgrade. */
export function pendingUpgrade(input: RevisionInput, history: readonly HelmRelease[]): HelmRelease {
  // Deployed once (an uninstall an interrupted down left half-done counts: part of it still runs).
  const install = !history.some((r) => r.info.status === 'deployed' || r.info.status === 'superseded' || r.info.status === 'uninstalling');
  const status: ReleaseStatus = install ? 'pending-install' : 'pending-upgrade';
  return {
    name: RELEASE_NAME,
    namespace: input.namespace,
    version: input.version,
    chart: input.chart,
    config: input.config,
    manifest: input.manifest,
    info: {
      first_deployed: input.firstDeployed ?? history[0]?.info.first_deployed ?? input.now.toISOString(),
      last_deployed: input.now.toISOString(),
      status,
      description: install ? 'Initial install underway' : 'Preparing upgrade',
    },
    apply_method: 'ssa',
  };
}

/** A rollback revision: a copy of the target's chart, values and manifest under a new number (rollback.go). */
export function pendingRollback(target: HelmRelease, version: number, now: Date, history: readonly HelmRelease[], description?: string): HelmRelease {
  return {
    ...structuredClone(target),
    version,
    info: {
      first_deployed: history[0]?.info.first_deployed ?? target.info.first_deployed,
      last_deployed: now.toISOString(),
      status: 'pending-rollback',
      rollback_revision: target.version,
      description: description ?? `Rollback to ${target.version}`,
    },
    apply_method: 'ssa',
  };
}

/** The status a finished run writes, with Helm's descriptions. */
export function finished(release: HelmRelease, outcome: { ok: true } | { ok: false; reason: string; interrupted?: boolean }, now: Date): HelmRelease {
  const was = release.info.status;
  const info = { ...release.info, last_deployed: now.toISOString() };
  if (outcome.ok) {
    info.status = 'deployed';
    info.description = was === 'pending-install' ? 'Install complete' : was === 'pending-upgrade' ? 'Upgrade complete' : (release.info.description ?? `Rollback to ${release.info.rollback_revision}`);
  } else {
    info.status = 'failed';
    const verb = was === 'pending-rollback' ? 'Rollback' : was === 'pending-install' ? 'Release' : 'Upgrade';
    const what = outcome.interrupted ? 'interrupted' : 'failed';
    info.description = `${verb} "${release.name}" ${what}: ${oneLine(outcome.reason)}`;
  }
  return { ...release, info };
}

/** Helm's descriptions are one line; ours keep the first line and stay short. */
function oneLine(text: string): string {
  const first = text.split('\n')[0]!.trim();
  return first.length > 300 ? `${first.slice(0, 297)}...` : first;
}

export function superseded(release: HelmRelease): HelmRelease {
  return { ...release, info: { ...release.info, status: 'superseded', description: release.info.description } };
}

/** Helm's own words for a release whose uninstall has begun (pkg/action/uninstall.go). */
export const UNINSTALLING_DESCRIPTION = 'Deletion in progress (or silently failed)';

/**
 * The deployed revision as `down` marks it before deleting anything, as Helm's uninstall does:
 * from then on the stack is being taken apart, and `deployed` would no longer be true.
 */
export function uninstalling(release: HelmRelease, now: Date): HelmRelease {
  return { ...release, info: { ...release.info, status: 'uninstalling', deleted: now.toISOString(), description: UNINSTALLING_DESCRIPTION } };
}

/**
 * The record of a `down` that stopped before it finished (Ctrl-C, SIGTERM, a failure): still
 * uninstalling (part of the stack is gone, part is left), the description saying how it ended
 * and what finishes it.
 */
export function uninstallStopped(release: HelmRelease, outcome: { reason: string; interrupted: boolean }, now: Date): HelmRelease {
  const how = outcome.interrupted ? 'interrupted' : 'failed';
  return {
    ...release,
    info: { ...release.info, status: 'uninstalling', deleted: release.info.deleted ?? now.toISOString(), description: oneLine(`Uninstall ${how} with the stack partly removed (down again finishes it, up deploys again): ${outcome.reason}`) },
  };
}

/** A pending record left by a run that ended without finishing (killed, machine lost). */
export function abandoned(release: HelmRelease, now: Date): HelmRelease {
  return { ...release, info: { ...release.info, status: 'failed', last_deployed: now.toISOString(), description: `${release.info.description ?? ''}; abandoned: the run that wrote it ended without finishing (found ${now.toISOString()})`.replace(/^; /, '') } };
}

export function latest(history: readonly HelmRelease[]): HelmRelease | undefined {
  return [...history].sort((a, b) => b.version - a.version)[0];
}

export function lastDeployed(history: readonly HelmRelease[]): HelmRelease | undefined {
  return [...history].filter((r) => r.info.status === 'deployed').sort((a, b) => b.version - a.version)[0];
}

export function pendingRevisions(history: readonly HelmRelease[]): HelmRelease[] {
  return history.filter((r) => isPending(r.info.status));
}

/**
 * The revision `rollback` goes back to: N when given (it must exist and have been deployed
 * once), else the newest revision before the current deployed one that was deployed (superseded).
 */
export function rollbackTarget(history: readonly HelmRelease[], to?: number): { target: HelmRelease } | { error: string } {
  const sorted = [...history].sort((a, b) => a.version - b.version);
  if (sorted.length === 0) return { error: `the release ${RELEASE_NAME} has no revisions yet. Fix: run npm run up first.` };
  const list = sorted.map((r) => `${r.version} (${r.info.status})`).join(', ');
  if (to !== undefined) {
    const target = sorted.find((r) => r.version === to);
    if (!target) return { error: `the release ${RELEASE_NAME} has no revision ${to}. Revisions: ${list}.` };
    if (target.info.status === 'failed' || isPending(target.info.status)) return { error: `revision ${to} is ${target.info.status}: it never deployed, so there is nothing good to go back to. Pick a superseded or deployed revision: ${list}.` };
    return { target };
  }
  const current = lastDeployed(sorted);
  const candidates = sorted.filter((r) => r.info.status === 'superseded' && (!current || r.version < current.version));
  const target = candidates[candidates.length - 1];
  if (!target) return { error: `the release ${RELEASE_NAME} has no earlier deployed revision to roll back to. Revisions: ${list}.` };
  return { target };
}

/** Helm's removeLeastRecent: oldest first until `max` remain, never the last deployed one. */
export function revisionsToPrune(history: readonly HelmRelease[], max: number): number[] {
  if (max <= 0 || history.length <= max) return [];
  const sorted = [...history].sort((a, b) => a.version - b.version);
  const keep = lastDeployed(sorted)?.version;
  const out: number[] = [];
  for (const r of sorted) {
    if (sorted.length - out.length === max) break;
    if (r.version !== keep) out.push(r.version);
  }
  return out;
}
