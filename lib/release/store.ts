// Release revisions in the cluster: Helm's Secret storage driver, spoken from TypeScript. Reads
// every revision of the release, creates a new one, rewrites one whose status changed, and
// trims the history to its maximum as Helm does.
import { CoreV1Api } from '@kubernetes/client-node';
import { DeployError } from '../errors.ts';
import type { Cluster } from '../kube/client.ts';
import { apiMessage, statusCode } from '../kube/apply.ts';
import { withRetry } from '../kube/retry.ts';
import type { KubeObject } from '../types.ts';
import { releaseFromSecret, releaseSecret, releaseSecretName, releaseSelector, type HelmRelease, type StoredRelease } from './helm-codec.ts';
import { revisionsToPrune } from './record.ts';

export interface ReleaseStore {
  /** Every revision, oldest first. Records that do not decode are reported, not skipped silently. */
  history(): Promise<HelmRelease[]>;
  create(release: HelmRelease): Promise<void>;
  update(release: HelmRelease): Promise<void>;
  /** Deletes the oldest revisions beyond `max` (never the last deployed); returns their numbers. */
  prune(max: number): Promise<number[]>;
  /** Deletes every revision (the stack was removed, as `helm uninstall` does). */
  removeAll(): Promise<number>;
}

/** How long a record's write waits for an API server that is away (it restarts, it throttles). */
const PATIENCE_MS = 60_000;

export function releaseStore(cluster: Cluster, namespace: string, name: string): ReleaseStore {
  const api = cluster.kc.makeApiClient(CoreV1Api);
  // Every call waits out transient faults: a record lost to a restarting API server would leave the release pending.
  const patient = <T>(what: string, call: () => Promise<T>) => withRetry(what, call, { deadline: Date.now() + PATIENCE_MS, server: cluster.server });
  const core = {
    listNamespacedSecret: (q: { namespace: string; labelSelector: string }) => patient('to list the release records', () => api.listNamespacedSecret(q)),
    readNamespacedSecret: (q: { name: string; namespace: string }) => patient('to read a revision', () => api.readNamespacedSecret(q)),
    replaceNamespacedSecret: (q: { name: string; namespace: string; body: any }) => patient('to update a revision', () => api.replaceNamespacedSecret(q)),
    deleteNamespacedSecret: (q: { name: string; namespace: string }) => patient('to delete a revision', () => api.deleteNamespacedSecret(q)),
  };
  const body = (release: HelmRelease, stamp: { createdAt: Date } | { modifiedAt: Date }, labels: Record<string, string> = {}) => releaseSecret(release, stamp, labels) as any;
  const fail = (what: string, err: unknown) => new DeployError(`${what} failed: ${apiMessage(err)}`, { cause: err });
  const customLabels = new Map<number, Record<string, string>>();
  /** Whether the Secret of that name holds exactly this record (the same encoded release). */
  const recorded = async (secret: KubeObject) => {
    const stored = await core.readNamespacedSecret({ name: secret.metadata.name, namespace }).catch(() => undefined);
    return stored?.data?.release === secret.data?.release;
  };

  const store: ReleaseStore = {
    async history() {
      let items: KubeObject[];
      try {
        items = (await core.listNamespacedSecret({ namespace, labelSelector: releaseSelector(name) })).items as unknown as KubeObject[];
      } catch (err) {
        if (statusCode(err) === 404) return [];
        throw fail(`Reading the release history of ${name} in namespace ${namespace}`, err);
      }
      const out: StoredRelease[] = [];
      for (const item of items) {
        try {
          out.push(releaseFromSecret(item));
        } catch (err) {
          throw new DeployError(`The release record ${namespace}/${item.metadata.name} cannot be read: ${(err as Error).message} Fix: delete it (kubectl -n ${namespace} delete secret ${item.metadata.name}) if it is not needed.`);
        }
      }
      for (const s of out) customLabels.set(s.release.version, s.labels);
      return out.map((s) => s.release).sort((a, b) => a.version - b.version);
    },
    async create(release) {
      const secret = body(release, { createdAt: new Date() });
      let retried = false;
      try {
        await withRetry('to record a revision', () => api.createNamespacedSecret({ namespace, body: secret }), { deadline: Date.now() + PATIENCE_MS, server: cluster.server, onRetry: () => (retried = true) });
      } catch (err) {
        if (statusCode(err) === 409) {
          // A create the server did whose answer was lost to the outage: the retry meets our own record.
          if (retried && (await recorded(secret))) return;
          throw new DeployError(`Revision ${release.version} of ${name} already exists in namespace ${namespace} (${releaseSecretName(name, release.version)}): another run recorded it meanwhile. Nothing was applied. Fix: run again.`);
        }
        throw fail(`Recording revision ${release.version} of ${name}`, err);
      }
    },
    async update(release) {
      const secretName = releaseSecretName(name, release.version);
      try {
        await core.replaceNamespacedSecret({ name: secretName, namespace, body: body(release, { modifiedAt: new Date() }, customLabels.get(release.version)) });
      } catch (err) {
        throw fail(`Updating revision ${release.version} of ${name} to ${release.info.status}`, err);
      }
    },
    async prune(max) {
      const doomed = revisionsToPrune(await store.history(), max);
      for (const version of doomed) {
        try {
          await core.deleteNamespacedSecret({ name: releaseSecretName(name, version), namespace });
        } catch (err) {
          if (statusCode(err) !== 404) throw fail(`Deleting revision ${version} of ${name} (history kept to ${max})`, err);
        }
      }
      return doomed;
    },
    async removeAll() {
      const all = await store.history();
      for (const r of all) {
        try {
          await core.deleteNamespacedSecret({ name: releaseSecretName(name, r.version), namespace });
        } catch (err) {
          if (statusCode(err) !== 404) throw fail(`Deleting revision ${r.version} of ${name}`, err);
        }
      }
      return all.length;
    },
  };
  return store;
}
