// The cluster DNS as a pod meets it: a query to the kube-dns Service's address. It answers only
// once kube-proxy has synced its rules for that Service (the DNAT to the CoreDNS pod's address)
// and CoreDNS serves names it learned from the API server. The CoreDNS Deployment being
// available says neither: its readiness is probed on the pod's own address, and kube-proxy
// programs the Service after the EndpointSlice changes, on its own schedule. So the node's
// start waits for this answer too, sent from the host: the host routes the service range into
// the node's network namespace, where the packets take the same kube-proxy rules as a pod's.
import { Resolver } from 'node:dns/promises';
import { CLUSTER_DNS, CLUSTER_DOMAIN } from './layout.ts';

/** The name every cluster has: the API server's Service. */
export const PROBE_NAME = `kubernetes.default.svc.${CLUSTER_DOMAIN}`;

/** The kubernetes Service's address: the first address of the service range (10.96.0.0/16 -> 10.96.0.1). Pure. */
export function firstServiceAddress(serviceCidr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(serviceCidr);
  if (!m) throw new Error(`not an IPv4 range: ${serviceCidr}`);
  const bits = Number(m[5]);
  const ip = m.slice(1, 5).reduce((n, o) => n * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = ((ip & mask) >>> 0) + 1;
  return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
}

export type DnsAnswer = { addresses: string[] } | { error: string };

/** Whether one answer is the one wanted, and a few words for the log or the failure. Pure. */
export function judgeDnsAnswer(answer: DnsAnswer, expected: string): { ok: boolean; detail: string } {
  if ('error' in answer) return { ok: false, detail: answer.error };
  if (answer.addresses.includes(expected)) return { ok: true, detail: `${PROBE_NAME} is ${expected}` };
  return { ok: false, detail: `${PROBE_NAME} answered ${answer.addresses.join(', ') || 'no address'}, not ${expected}` };
}

/** One A query to `server`, never retried (the caller's loop retries). */
export async function queryOnce(server: string, name: string, timeoutMs = 1000): Promise<DnsAnswer> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  resolver.setServers([server]);
  try {
    return { addresses: await resolver.resolve4(name) };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

export interface DnsWait {
  /** How long from the first query to the right answer. */
  ms: number;
  /** How many queries failed before it (with the first failure's words), 0 when the first answered. */
  failed: number;
  firstFailure?: string;
}

/**
 * Queries the cluster DNS until it answers PROBE_NAME with `expected`; throws at the deadline
 * with the last answer and `explain()` (the logs to read).
 */
export async function waitForClusterDns(options: { expected: string; deadlineMs: number; explain: () => string; server?: string; query?: typeof queryOnce }): Promise<DnsWait> {
  const server = options.server ?? CLUSTER_DNS;
  const query = options.query ?? queryOnce;
  const started = Date.now();
  let failed = 0;
  let firstFailure: string | undefined;
  for (;;) {
    const verdict = judgeDnsAnswer(await query(server, PROBE_NAME), options.expected);
    if (verdict.ok) return { ms: Date.now() - started, failed, firstFailure };
    failed++;
    firstFailure ??= verdict.detail;
    if (Date.now() - started > options.deadlineMs) {
      throw new Error(`The cluster DNS (${server}, the kube-dns Service) did not answer ${PROBE_NAME} within ${Math.round(options.deadlineMs / 1000)} s (last: ${verdict.detail}): kube-proxy has not routed the Service to CoreDNS, or CoreDNS does not serve. ${options.explain()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
