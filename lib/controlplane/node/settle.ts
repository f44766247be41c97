// Waiting for the node's own controllers to catch up with what the API server already says:
// kube-proxy's routes for ready endpoints (service-routes.ts), kube-router's rules for running
// pods (policy-sync.ts). Both poll one check until nothing is left, and say what they waited for.

export interface Settled<T> {
  /** How long until nothing was left. */
  ms: number;
  /** What was left at the first look (empty: nothing to wait for). */
  waitedFor: T[];
}

/**
 * Polls `left` until it returns nothing. It gets what was left at the previous look (undefined
 * at the first), so a check can narrow to it. Throws `timeout(left)` once the deadline passes.
 */
export async function waitUntilNoneLeft<T>(left: (previous?: T[]) => Promise<T[]>, options: { deadlineMs: number; everyMs?: number; timeout: (left: T[]) => Error }): Promise<Settled<T>> {
  const started = Date.now();
  const waitedFor = await left();
  let now = waitedFor;
  while (now.length > 0) {
    if (Date.now() - started > options.deadlineMs) throw options.timeout(now);
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100));
    now = await left(now);
  }
  return { ms: Date.now() - started, waitedFor };
}
