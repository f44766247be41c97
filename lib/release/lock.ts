// One run at a time per namespace: a coordination.k8s.io Lease held and renewed while `up`,
// `down` or `rollback` runs. A second run is refused at once, naming who holds the lock and
// since when; a lease whose holder stopped renewing (killed, machine gone) is taken over once
// its duration has passed, so a crashed run never leaves a lock that needs a person to clear it
// (Helm's pending-* status does).
import { hostname, userInfo } from 'node:os';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { DeployError } from '../errors.ts';
import type { Cluster } from '../kube/client.ts';
import { apiMessage, statusCode } from '../kube/apply.ts';

export const LOCK_NAME = 'todo-deploy';
export const DEFAULT_LEASE_SECONDS = 30;
/** Overrides the lease duration (seconds); tests use a short one. */
export const LEASE_SECONDS_VARIABLE = 'TODO_DEPLOY_LEASE_SECONDS';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | Date | null;
  renewTime?: string | Date | null;
  leaseTransitions?: number;
}

export interface LeaseObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; uid?: string };
  spec?: LeaseSpec;
}

export interface HeldLease {
  state: 'held' | 'expired';
  holder: string;
  since?: Date;
  renewed?: Date;
  expires: Date;
}
export type LeaseState = { state: 'free' } | HeldLease;

const time = (t: string | Date | null | undefined): Date | undefined => (t ? new Date(t) : undefined);

/** Whether a lease is free, held, or held by someone who stopped renewing. Pure. */
export function judgeLease(spec: LeaseSpec | undefined, now: Date): LeaseState {
  const holder = spec?.holderIdentity ?? '';
  if (!holder) return { state: 'free' };
  const renewed = time(spec?.renewTime) ?? time(spec?.acquireTime);
  const duration = (spec?.leaseDurationSeconds ?? DEFAULT_LEASE_SECONDS) * 1000;
  const expires = new Date((renewed?.getTime() ?? 0) + duration);
  return { state: expires.getTime() <= now.getTime() ? 'expired' : 'held', holder, since: time(spec?.acquireTime), renewed, expires };
}

/** The sentence a refused run prints. Pure. */
export function heldMessage(namespace: string, s: HeldLease, now: Date): string {
  const since = s.since ? `${s.since.toISOString()} (${ago(s.since, now)})` : 'an unknown time';
  const renewed = s.renewed ? `, last renewed ${ago(s.renewed, now)}` : '';
  return (
    `Another run holds the lock on namespace ${namespace}: ${s.holder}, since ${since}${renewed}. Nothing was changed. ` +
    `Fix: wait until it finishes. If that run is gone, its lock expires at ${s.expires.toISOString()} and the next run takes it over ` +
    `(kubectl -n ${namespace} get lease ${LOCK_NAME} shows it).`
  );
}

function ago(t: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - t.getTime()) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

export function holderIdentity(command: string): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): the pid and host still tell runs apart
  }
  return `${user}@${hostname()} pid ${process.pid} (${command})`;
}

export function leaseSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LEASE_SECONDS_VARIABLE];
  if (raw === undefined || raw === '') return DEFAULT_LEASE_SECONDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2 || n > 3600) throw new DeployError(`${LEASE_SECONDS_VARIABLE}=${raw} is not a whole number of seconds from 2 to 3600. Fix: unset it (default ${DEFAULT_LEASE_SECONDS}) or give one.`);
  return n;
}

export interface HeldLock {
  holder: string;
  /** Set when the lease was taken over from a holder that stopped renewing. */
  tookOverFrom?: string;
  /** Aborts when the lease is lost (another run took it, or it could not be renewed in time). */
  lost: AbortSignal;
  release(): Promise<void>;
}

export interface LockOptions {
  namespace: string;
  /** What the run is, e.g. "npm run up". */
  command: string;
  durationSeconds?: number;
  /** Called when the namespace does not exist yet: create it, then the lease is created in it. */
  ensureNamespace?: () => Promise<void>;
}

const micro = (d: Date) => new V1MicroTime(d.getTime());

export async function acquireLock(cluster: Cluster, options: LockOptions): Promise<HeldLock> {
  const api = cluster.kc.makeApiClient(CoordinationV1Api);
  const { namespace } = options;
  const duration = options.durationSeconds ?? leaseSeconds();
  const holder = holderIdentity(options.command);
  const name = LOCK_NAME;
  const read = async (): Promise<LeaseObject | undefined> => {
    try {
      return (await api.readNamespacedLease({ name, namespace })) as unknown as LeaseObject;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw new DeployError(`Reading the lock (Lease ${namespace}/${name}) failed: ${apiMessage(err)}`, { cause: err });
    }
  };
  const spec = (transitions: number, acquired: Date): LeaseSpec => ({ holderIdentity: holder, leaseDurationSeconds: duration, acquireTime: micro(acquired), renewTime: micro(new Date()), leaseTransitions: transitions });

  let tookOverFrom: string | undefined;
  let current: LeaseObject | undefined;
  let namespaceEnsured = false;
  const acquiredAt = new Date();
  for (let attempt = 0; attempt < 5 && !current; attempt++) {
    const existing = await read();
    if (!existing) {
      try {
        current = (await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: spec(0, acquiredAt) } as any })) as unknown as LeaseObject;
      } catch (err) {
        const code = statusCode(err);
        if (code === 409) continue; // someone created it meanwhile: judge theirs
        if (code === 404 && options.ensureNamespace && !namespaceEnsured) {
          namespaceEnsured = true;
          await options.ensureNamespace();
          continue;
        }
        if (code === 403 && /being terminated/.test(apiMessage(err))) {
          throw new DeployError(`The namespace ${namespace} is being deleted (an earlier down), so no run can lock it yet. Nothing was changed. Fix: wait until \`kubectl get namespace ${namespace}\` says NotFound, then run again.`);
        }
        throw new DeployError(`Creating the lock (Lease ${namespace}/${name}) failed: ${apiMessage(err)}`, { cause: err });
      }
      break;
    }
    const state = judgeLease(existing.spec, new Date());
    if (state.state === 'held') throw new DeployError(heldMessage(namespace, state, new Date()));
    if (state.state === 'expired') tookOverFrom = state.holder;
    try {
      // resourceVersion makes this a compare-and-swap: of two runs taking over, one wins.
      current = (await api.replaceNamespacedLease({
        name,
        namespace,
        body: { metadata: { name, namespace, resourceVersion: existing.metadata.resourceVersion }, spec: spec((existing.spec?.leaseTransitions ?? 0) + 1, acquiredAt) } as any,
      })) as unknown as LeaseObject;
    } catch (err) {
      if (statusCode(err) === 409) {
        tookOverFrom = undefined;
        continue;
      }
      throw new DeployError(`Taking the lock (Lease ${namespace}/${name}) failed: ${apiMessage(err)}`, { cause: err });
    }
  }
  if (!current) throw new DeployError(`The lock (Lease ${namespace}/${name}) kept changing hands while this run tried to take it. Nothing was changed. Fix: run again.`);

  const lost = new AbortController();
  let stopped = false;
  let renewing: Promise<void> | undefined;
  const renew = async () => {
    try {
      const next = (await api.replaceNamespacedLease({
        name,
        namespace,
        body: { metadata: { name, namespace, resourceVersion: current!.metadata.resourceVersion }, spec: { ...current!.spec, renewTime: micro(new Date()) } } as any,
      })) as unknown as LeaseObject;
      current = next;
    } catch (err) {
      if (stopped) return;
      const code = statusCode(err);
      if (code === 409 || code === 404) {
        const now = await read().catch(() => undefined);
        if (now?.spec?.holderIdentity === holder) {
          current = now;
          return renew();
        }
        lost.abort(new DeployError(`This run lost its lock on namespace ${namespace}: ${now?.spec?.holderIdentity ? `${now.spec.holderIdentity} holds it now` : 'the Lease was deleted'}. It stopped so that two runs do not change the stack at once.`));
        return;
      }
      // A transient fault (an API server restarting): keep renewing. Nobody can take the lease while
      // the server is away, and once it answers, the resourceVersion tells whether someone did.
    }
  };
  const timer = setInterval(() => {
    if (!renewing) renewing = renew().finally(() => (renewing = undefined));
  }, Math.max(500, (duration * 1000) / 3));
  timer.unref();

  return {
    holder,
    tookOverFrom,
    lost: lost.signal,
    async release() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await renewing;
      try {
        // Only our own lease: the precondition fails if someone else holds it by now.
        await api.deleteNamespacedLease({ name, namespace, body: { preconditions: { resourceVersion: current!.metadata.resourceVersion } } });
      } catch (err) {
        const code = statusCode(err);
        if (code === 404 || code === 409) return;
        throw new DeployError(`Releasing the lock (Lease ${namespace}/${name}) failed: ${apiMessage(err)}. It expires by itself after ${duration} s.`, { cause: err });
      }
    },
  };
}
