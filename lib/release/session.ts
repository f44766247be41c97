// A release around one run of `up` or `rollback`: the lock taken, the history read, a pending
// revision recorded before anything is applied, and at the end the revision deployed (the one
// before superseded, the history trimmed) or failed. A pending revision left by a run that died
// without finishing is marked failed first: holding the lock, this run knows nobody else is at
// work, so a crashed run never leaves the release stuck in pending-* as Helm does.
import { DeployError } from '../errors.ts';
import type { Cluster } from '../kube/client.ts';
import type { HelmRelease } from './helm-codec.ts';
import { acquireLock, type HeldLock } from './lock.ts';
import { abandoned, DEFAULT_HISTORY_MAX, finished, latest, pendingRevisions, RELEASE_NAME, superseded } from './record.ts';
import { releaseStore, type ReleaseStore } from './store.ts';

export interface SessionOptions {
  namespace: string;
  /** What the run is, for the lock's holder ("npm run up"). */
  command: string;
  /** Creates the namespace when it does not exist yet (the lock and the records live in it). */
  ensureNamespace?: () => Promise<void>;
  historyMax?: number;
  lockSeconds?: number;
}

export interface ReleaseSession {
  readonly lock: HeldLock;
  readonly store: ReleaseStore;
  /** The history as it was before this run's revision. */
  readonly before: readonly HelmRelease[];
  /** Pending revisions a run that died left behind, now marked failed (their numbers and what they were). */
  readonly abandoned: readonly { version: number; status: string }[];
  /** The revision this run records (pending until succeed or fail). */
  revision: HelmRelease;
  /** Records a new revision (pending); the last one recorded is what succeed and fail finish. */
  record(make: (before: readonly HelmRelease[], version: number) => HelmRelease): Promise<HelmRelease>;
  /** The revision deployed, the one deployed before superseded, the history trimmed; returns the pruned revision numbers. */
  succeed(): Promise<number[]>;
  fail(reason: string, interrupted?: boolean): Promise<void>;
  /** Releases the lock; safe to call twice. */
  close(): Promise<void>;
}

/** Takes the lock and reads the history; the caller records its revision with record(). */
export async function openRelease(cluster: Cluster, options: SessionOptions): Promise<ReleaseSession> {
  const lock = await acquireLock(cluster, { namespace: options.namespace, command: options.command, durationSeconds: options.lockSeconds, ensureNamespace: options.ensureNamespace });
  try {
    const store = releaseStore(cluster, options.namespace, RELEASE_NAME);
    let history = await store.history();
    const stale = pendingRevisions(history);
    for (const r of stale) await store.update(abandoned(r, new Date()));
    if (stale.length > 0) history = await store.history();
    const max = options.historyMax ?? DEFAULT_HISTORY_MAX;
    let current: HelmRelease | undefined;
    const all: HelmRelease[] = [...history];
    const session: ReleaseSession = {
      lock,
      store,
      before: history,
      abandoned: stale.map((r) => ({ version: r.version, status: r.info.status })),
      get revision() {
        if (!current) throw new DeployError('No revision was recorded for this run.');
        return current;
      },
      set revision(r) {
        current = r;
      },
      async record(make) {
        const version = (latest(all)?.version ?? 0) + 1;
        const revision = make(all, version);
        await store.create(revision);
        all.push(revision);
        current = revision;
        return revision;
      },
      async succeed() {
        const done = finished(session.revision, { ok: true }, new Date());
        await store.update(done);
        // A revision an interrupted down left uninstalling is replaced by this one, like a deployed one.
        for (const r of all.filter((h) => (h.info.status === 'deployed' || h.info.status === 'uninstalling') && h.version !== done.version)) {
          const s = superseded(r);
          await store.update(s);
          all[all.indexOf(r)] = s;
        }
        all[all.findIndex((r) => r.version === done.version)] = done;
        current = done;
        return store.prune(max);
      },
      async fail(reason, interrupted) {
        const done = finished(session.revision, { ok: false, reason, interrupted }, new Date());
        await store.update(done);
        all[all.findIndex((r) => r.version === done.version)] = done;
        current = done;
      },
      close: () => lock.release(),
    };
    return session;
  } catch (err) {
    await lock.release().catch(() => undefined);
    throw err;
  }
}
