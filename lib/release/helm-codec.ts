// A release in Helm's own storage format, so that a user's `helm list`, `helm history`,
// `helm status` and `helm get manifest|values` read todo-deploy's revisions as their own.
// Pure: objects in, objects out.
//
// What Helm's storage driver does (helm.sh/helm/v4 pkg/storage/driver/secrets.go, util.go,
// pkg/release/v1, pkg/chart/v2, read at v4.3.1):
//   - one Secret per revision, named sh.helm.release.v1.<release>.v<revision>,
//     type helm.sh/release.v1, in the release's namespace;
//   - labels name, owner=helm, status, version, plus createdAt (on create) or modifiedAt
//     (on update; the update rewrites the labels, so createdAt is gone afterwards);
//   - data.release = base64(gzip(JSON of the release)). The Secret's data map holds bytes,
//     which the API encodes as base64 once more: on the wire the value is base64 twice.
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import type { KubeObject } from '../types.ts';

/** pkg/release/common/status.go */
export const RELEASE_STATUSES = [
  'unknown',
  'deployed',
  'uninstalled',
  'superseded',
  'failed',
  'uninstalling',
  'pending-install',
  'pending-upgrade',
  'pending-rollback',
] as const;
export type ReleaseStatus = (typeof RELEASE_STATUSES)[number];

export function isPending(status: ReleaseStatus): boolean {
  return status === 'pending-install' || status === 'pending-upgrade' || status === 'pending-rollback';
}

/** common.File: data is []byte, so base64 in JSON. */
export interface HelmFile {
  name: string;
  data: string;
}

/** chart.Metadata (the Chart.yaml fields the JSON carries; all omitempty). */
export interface HelmChartMetadata {
  name: string;
  version: string;
  apiVersion: string;
  description?: string;
  appVersion?: string;
  type?: string;
  home?: string;
  keywords?: string[];
  kubeVersion?: string;
  annotations?: Record<string, string>;
}

/** chart.Chart: metadata, lock, templates, values, schema and schemamodtime are written even when empty. */
export interface HelmChart {
  metadata: HelmChartMetadata;
  lock: null;
  templates: HelmFile[];
  values: Record<string, unknown>;
  schema: string | null;
  schemamodtime?: string;
  files: HelmFile[];
}

/** release.Info; times are RFC 3339, omitted when zero. */
export interface HelmReleaseInfo {
  first_deployed?: string;
  last_deployed?: string;
  deleted?: string;
  description?: string;
  status: ReleaseStatus;
  /** The revision a rollback went back to (Helm 4). */
  rollback_revision?: number;
  notes?: string;
}

export interface HelmHook {
  name?: string;
  kind?: string;
  path?: string;
  manifest?: string;
  events?: string[];
  last_run: { started_at?: string; completed_at?: string; phase: string };
  weight?: number;
  delete_policies?: string[];
}

/** release.Release (pkg/release/v1/release.go). Labels live on the Secret, not in the JSON. */
export interface HelmRelease {
  name: string;
  info: HelmReleaseInfo;
  chart: HelmChart;
  /** The values supplied on top of the chart's values.yaml (`helm get values`). */
  config: Record<string, unknown>;
  /** Rendered objects as YAML documents (`helm get manifest`). */
  manifest: string;
  hooks?: HelmHook[];
  version: number;
  namespace: string;
  /** "ssa" (server-side apply, which todo-deploy uses) or "csa". */
  apply_method?: 'ssa' | 'csa';
}

export const RELEASE_SECRET_TYPE = 'helm.sh/release.v1';
export const OWNER = 'helm';
/** Labels Helm writes itself (driver/util.go systemLabels). */
export const SYSTEM_LABELS = ['name', 'owner', 'status', 'version', 'createdAt', 'modifiedAt'] as const;

/** sh.helm.release.v1.<name>.v<version> (pkg/storage/storage.go makeKey). */
export function releaseSecretName(name: string, version: number): string {
  return `sh.helm.release.v1.${name}.v${version}`;
}

/** The label selector of every revision of a release (what `helm history` asks for). */
export function releaseSelector(name: string): string {
  return `name=${name},owner=${OWNER}`;
}

/**
 * Go's encoding/json drops omitempty fields when empty and writes the rest in struct order; this
 * writes the same field order so that our JSON reads like Helm's (decoders do not care).
 */
export function releaseJson(release: HelmRelease): string {
  const info = compact({
    first_deployed: release.info.first_deployed,
    last_deployed: release.info.last_deployed,
    deleted: release.info.deleted,
    description: release.info.description,
    status: release.info.status,
    rollback_revision: release.info.rollback_revision,
    notes: release.info.notes,
  });
  const chart = {
    metadata: compact({ ...release.chart.metadata }),
    lock: null,
    templates: release.chart.templates,
    values: release.chart.values,
    schema: release.chart.schema,
    schemamodtime: release.chart.schemamodtime ?? '0001-01-01T00:00:00Z',
    files: release.chart.files,
  };
  return JSON.stringify(
    compact({
      name: release.name,
      info,
      chart,
      config: Object.keys(release.config).length > 0 ? release.config : undefined,
      manifest: release.manifest,
      hooks: release.hooks && release.hooks.length > 0 ? release.hooks : undefined,
      version: release.version,
      namespace: release.namespace,
      apply_method: release.apply_method,
    }),
  );
}

/** Drops what Go's omitempty drops: undefined, "", 0, empty arrays and maps. */
function compact<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || v === 0) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out as T;
}

/** base64(gzip(JSON)), gzip at best compression as Helm writes it (driver/util.go encodeRelease). */
export function encodeRelease(release: HelmRelease): string {
  return gzipSync(Buffer.from(releaseJson(release), 'utf8'), { level: constants.Z_BEST_COMPRESSION }).toString('base64');
}

const GZIP_MAGIC = [0x1f, 0x8b, 0x08];

/** The inverse of encodeRelease; like Helm it also accepts an uncompressed JSON payload. */
export function decodeRelease(encoded: string): HelmRelease {
  let bytes = Buffer.from(encoded, 'base64');
  if (bytes.length > 3 && GZIP_MAGIC.every((b, i) => bytes[i] === b)) bytes = gunzipSync(bytes);
  const parsed = JSON.parse(bytes.toString('utf8')) as HelmRelease;
  // Helm's decoder treats a missing config as empty; so do we.
  parsed.config ??= {};
  parsed.manifest ??= '';
  return parsed;
}

export interface StoredRelease {
  release: HelmRelease;
  /** The Secret's labels that are not Helm's own (filterSystemLabels). */
  labels: Record<string, string>;
  secretName: string;
}

/**
 * The Secret that stores one revision. `stamp` is "createdAt" for a new record, "modifiedAt"
 * for a rewrite, with Unix seconds, as Helm's Create and Update set them.
 */
export function releaseSecret(release: HelmRelease, stamp: { createdAt: Date } | { modifiedAt: Date }, customLabels: Record<string, string> = {}): KubeObject {
  const labels: Record<string, string> = { ...customLabels };
  for (const key of SYSTEM_LABELS) delete labels[key];
  if ('createdAt' in stamp) labels.createdAt = String(Math.floor(stamp.createdAt.getTime() / 1000));
  else labels.modifiedAt = String(Math.floor(stamp.modifiedAt.getTime() / 1000));
  labels.name = release.name;
  labels.owner = OWNER;
  labels.status = release.info.status;
  labels.version = String(release.version);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: releaseSecretName(release.name, release.version), namespace: release.namespace, labels },
    type: RELEASE_SECRET_TYPE,
    // The API's Secret.data is base64 of the bytes, and the bytes are Helm's base64 text.
    data: { release: Buffer.from(encodeRelease(release), 'utf8').toString('base64') },
  };
}

/** Reads a release Secret as read from the API (data base64 once more). Throws on anything else. */
export function releaseFromSecret(secret: KubeObject): StoredRelease {
  const name = secret.metadata.name;
  if (secret.type !== RELEASE_SECRET_TYPE) throw new Error(`Secret ${name} is of type ${secret.type ?? '(none)'}, not ${RELEASE_SECRET_TYPE}.`);
  const wire = secret.data?.release;
  if (typeof wire !== 'string' || wire === '') throw new Error(`Secret ${name} has no data.release.`);
  const release = decodeRelease(Buffer.from(wire, 'base64').toString('utf8'));
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.metadata.labels ?? {})) if (!(SYSTEM_LABELS as readonly string[]).includes(k)) labels[k] = v;
  return { release, labels, secretName: name };
}
