// Waiting on the API through a watch: the condition is checked on every event (the first
// events are the objects that already exist), so nothing polls and nothing sleeps.

import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface WaitForOptions {
  kc: KubeConfig;
  /** Collection path, e.g. /api/v1/nodes or /apis/apps/v1/namespaces/x/deployments. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** True when the objects seen so far (by namespace/name) are what we wait for. */
  done: (objects: Map<string, any>) => boolean;
  deadlineMs: number;
  /** For the timeout message, e.g. "node kwok-node-0 Ready". */
  what: string;
  /** Extra detail for the timeout message, from the last objects seen. */
  explain?: (objects: Map<string, any>) => string;
  /** Called once the first watch is established (its initial list is on the way). */
  onWatching?: () => void;
}

export function keyOf(obj: any): string {
  const m = obj?.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : String(m.name);
}

export function waitFor(opts: WaitForOptions): Promise<Map<string, any>> {
  const objects = new Map<string, any>();
  return new Promise((resolve, reject) => {
    let finished = false;
    let abort: AbortController | undefined;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      abort?.abort();
      if (err) reject(err);
      else resolve(objects);
    };
    const timer = setTimeout(() => {
      const detail = opts.explain ? ` ${opts.explain(objects)}` : '';
      finish(new Error(`timed out after ${Math.round(opts.deadlineMs / 1000)} s waiting for ${opts.what}.${detail}`));
    }, opts.deadlineMs);
    const start = () => {
      if (finished) return;
      objects.clear();
      new Watch(opts.kc)
        .watch(
          opts.path,
          opts.query ?? {},
          (phase, obj) => {
            if (phase === 'DELETED') objects.delete(keyOf(obj));
            else if (phase === 'ADDED' || phase === 'MODIFIED') objects.set(keyOf(obj), obj);
            try {
              if (opts.done(objects)) finish();
            } catch (err) {
              finish(err as Error);
            }
          },
          () => {
            // The server ends watches now and then; start again (fresh list) until done.
            if (!finished) setImmediate(start);
          },
        )
        .then((controller) => {
          abort = controller;
          if (finished) controller.abort();
          const watching = opts.onWatching;
          opts.onWatching = undefined;
          watching?.();
        })
        .catch((err) => {
          if (!finished) setTimeout(start, 200);
          void err;
        });
    };
    start();
  });
}
