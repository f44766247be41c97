// Waiting on the cluster by watching: list once for the current state and a resourceVersion,
// then follow a watch from there, judging the whole set of matching objects after every event.
// A closed watch is resumed from the last resourceVersion; a 410 (history compacted) re-lists.
import { Watch } from '@kubernetes/client-node';
import { DeployError } from '../errors.ts';
import type { KubeObject } from '../types.ts';
import { listObjects } from './apply.ts';
import { resourcePath } from './raw.ts';
import { withRetry } from './retry.ts';
import type { Cluster } from './client.ts';
import type { Verdict, WatchTarget } from '../kinds.ts';

export type { Verdict, WatchTarget } from '../kinds.ts';

export class GateTimeout extends DeployError {
  constructor(
    message: string,
    readonly lastItems: KubeObject[],
  ) {
    super(message);
    this.name = 'GateTimeout';
  }
}

export class GateFailed extends DeployError {
  constructor(
    message: string,
    readonly lastItems: KubeObject[],
  ) {
    super(message);
    this.name = 'GateFailed';
  }
}

/** A watch ending sooner than this after it started counts as a quick end (see the back-off). */
const QUICK_END_MS = 1000;
const MAX_PAUSE_MS = 5000;

export { resourcePath };

export interface WatchOptions {
  /** Absolute time (ms since epoch) after which the wait fails. */
  deadline: number;
  onProgress?: (text: string) => void;
  signal?: AbortSignal;
  /** Describes the goal for the timeout message, e.g. "Deployment backend to roll out". */
  goal: string;
  /** Detail for the timeout message, from the last items seen (e.g. which of them are not there yet). */
  explain?: (items: KubeObject[]) => string;
  /**
   * Called once, when the first watch is established (or when the wait ends before that): a
   * caller that must not act before its changes can be seen (e.g. to record every state a new
   * object passes through) waits for this.
   */
  onWatching?: () => void;
}

/**
 * Resolves with the final items once `evaluate` says done; rejects with GateFailed when it says
 * failed and with GateTimeout at the deadline. No polling: every re-evaluation follows an event.
 */
export async function watchUntil(
  cluster: Cluster,
  target: WatchTarget,
  evaluate: (items: KubeObject[]) => Verdict,
  options: WatchOptions,
): Promise<KubeObject[]> {
  const fieldSelector = target.name ? `metadata.name=${target.name}` : undefined;
  const items = new Map<string, KubeObject>();
  const path = resourcePath(target);
  let abort: AbortController | undefined;
  let settled = false;
  let quickEnds = 0;
  let watching = options.onWatching;
  const announceWatching = () => {
    const hook = watching;
    watching = undefined;
    hook?.();
  };

  return new Promise<KubeObject[]>((resolve, reject) => {
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort?.abort();
      options.signal?.removeEventListener('abort', onAbort);
      fn();
      announceWatching();
    };
    const judge = () => {
      const current = [...items.values()];
      let verdict: Verdict;
      try {
        verdict = evaluate(current);
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (verdict.progress) options.onProgress?.(verdict.progress);
      if (verdict.done) finish(() => resolve(current));
      else if (verdict.failed) finish(() => reject(new GateFailed(verdict.failed!, current)));
    };
    const remaining = Math.max(0, options.deadline - Date.now());
    const timer = setTimeout(() => {
      const last = [...items.values()];
      const detail = options.explain ? ` ${options.explain(last)}` : '';
      finish(() => reject(new GateTimeout(`Timed out after ${Math.round((Date.now() - started) / 1000)}s waiting for ${options.goal}.${detail}`, last)));
    }, remaining);
    const started = Date.now();
    const onAbort = () => finish(() => reject(new DeployError(`Interrupted while waiting for ${options.goal}.`)));
    options.signal?.addEventListener('abort', onAbort);

    const relist = async () => {
      // An API server that restarts (or throttles) is waited for, up to the gate's deadline.
      const list = await withRetry(`to list ${target.kind.kind} objects`, () => listObjects(cluster, target.kind.apiVersion, target.kind.kind, target.namespace, target.labelSelector, fieldSelector), {
        deadline: options.deadline,
        signal: options.signal,
        server: cluster.server,
      });
      items.clear();
      for (const item of list?.items ?? []) items.set(item.metadata.name, item);
      return list?.resourceVersion;
    };
    const follow = async (resourceVersion: string | undefined) => {
      if (settled) return;
      const watch = new Watch(cluster.kc);
      const watchStarted = Date.now();
      let lastVersion = resourceVersion;
      let gone = false;
      abort = await watch.watch(
        path,
        { resourceVersion, fieldSelector, labelSelector: target.labelSelector, allowWatchBookmarks: true },
        (phase, obj: KubeObject) => {
          if (phase === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; start over from a fresh list.
            gone = true;
            return;
          }
          lastVersion = obj?.metadata?.resourceVersion ?? lastVersion;
          if (phase === 'BOOKMARK') return;
          const item = { ...obj, apiVersion: target.kind.apiVersion, kind: target.kind.kind };
          if (phase === 'DELETED') items.delete(item.metadata.name);
          else items.set(item.metadata.name, item);
          judge();
        },
        (err) => {
          if (settled) return;
          // The server ends watches after a while, and connections drop: resume. A watch that
          // ends at once (a refused watch, a flapping connection) is resumed after a growing
          // pause, so a persistent fault cannot spin until the deadline.
          quickEnds = Date.now() - watchStarted < QUICK_END_MS ? quickEnds + 1 : 0;
          const pause = quickEnds === 0 ? 0 : Math.min(MAX_PAUSE_MS, 100 * 2 ** quickEnds);
          const restart = () => (gone || err ? relist().then((rv) => (judge(), rv)) : Promise.resolve(lastVersion));
          new Promise<void>((r) => setTimeout(r, pause).unref())
            .then(restart)
            .then(follow)
            .catch((e) => finish(() => reject(e)));
        },
      );
      if (settled) abort.abort();
      else announceWatching();
    };

    relist()
      .then((rv) => {
        judge();
        return follow(rv);
      })
      .catch((err) => finish(() => reject(err)));
  });
}
