// Following everything `status` reports: one watch per kind of the stack (and its pods,
// EndpointSlices and release records), each event asking for a redraw. Redraws are made one at
// a time and coalesced: a burst of events (a rollout) costs one read, not one per event.
import { KINDS } from '../kinds.ts';
import { MANAGED_SELECTOR } from '../manifests.ts';
import { releaseSelector } from '../release/helm-codec.ts';
import { RELEASE_NAME } from '../release/record.ts';
import type { Cluster } from './client.ts';
import { readLive } from './live.ts';
import { watchUntil, type WatchTarget } from './watch.ts';

const COALESCE_MS = 200;
// setTimeout holds at most 2^31-1 ms; a watch meant to last until Ctrl-C gets the longest it can.
const LONGEST_MS = 2 ** 31 - 2;

/** Calls `changed` after every change to the stack until the signal aborts. */
export async function watchStack(cluster: Cluster, namespace: string, changed: () => Promise<void>, signal: AbortSignal): Promise<void> {
  const served = (await readLive(cluster, namespace)).lists.filter((l) => l.served).map((l) => l.kind);
  const targets: WatchTarget[] = [
    ...served.map((kind) => (kind.namespaced ? { kind, namespace, labelSelector: MANAGED_SELECTOR } : { kind, name: namespace })),
    { kind: KINDS.Pod.ref, namespace, labelSelector: MANAGED_SELECTOR },
    { kind: KINDS.EndpointSlice.ref, namespace },
    { kind: KINDS.Secret.ref, namespace, labelSelector: releaseSelector(RELEASE_NAME) },
  ];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const ask = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(changed).catch(() => undefined);
    }, COALESCE_MS);
  };
  await Promise.all(
    targets.map((target) =>
      watchUntil(cluster, target, () => (ask(), { done: false }), { deadline: Date.now() + LONGEST_MS, signal, goal: `changes to ${target.kind.kind} objects` }).catch(() => undefined),
    ),
  );
  if (timer) clearTimeout(timer);
  await running;
}
