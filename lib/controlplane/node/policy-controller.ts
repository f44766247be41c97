// The real node's NetworkPolicy enforcement: kube-router (github.com/cloudnativelabs/kube-router/v2,
// built by lib/controlplane/build/build.sh) with its firewall alone, in the node's network
// namespace beside kube-proxy. It turns the policies into iptables chains (KUBE-ROUTER-*,
// KUBE-POD-FW-*, KUBE-NWPLCY-*) and ipsets (KUBE-SRC-*, KUBE-DST-*) in that namespace only.
//
// Why kube-router: this kernel has iptables' NFQUEUE target and ipset but not the nftables
// `queue` statement that sigs.k8s.io/kube-network-policies needs (shared/REAL-NODE.md), and
// kube-router's policy controller runs on its own beside kube-proxy (its routing and service
// proxy switched off). Its `--cleanup-config` leaves the policy rules in place in v2.1.0 (it
// cleans with an unconfigured controller), so removing them is done here: after the process
// stops, the jumps from INPUT/FORWARD/OUTPUT, its chains and its ipsets. The sweep removes the
// whole namespace anyway; this is for turning enforcement off on a running node.
//
// The command lines and the clean-up are pure (unit-tested); running them is the only I/O.

import { spawnSync } from 'node:child_process';
import { SERVICE_CIDR, USERS } from '../config.ts';
import { inNetns } from './network.ts';
import { NETNS, NODE_NAME } from './layout.ts';

/** The user kube-router acts as (its static token), bound to policyControllerRbac()'s ClusterRole. */
export const POLICY_CONTROLLER_USER = USERS.networkPolicyController.user;

/** Health port (inside the node's namespace: no clash with the host). */
const HEALTH_PORT = 20244;

/** kube-router's arguments: the firewall only; routing, service proxy and load balancer off. Pure. */
export function kubeRouterArgs(kubeconfig: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    '--run-firewall=true',
    '--run-router=false',
    '--run-service-proxy=false',
    '--run-loadbalancer=false',
    `--hostname-override=${NODE_NAME}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--health-port=${HEALTH_PORT}`,
    '--metrics-port=0',
    '--enable-ipv6=false',
  ];
}

/** What kube-router reads: its informers list and watch these (it writes nothing). Pure. */
export function policyControllerRbac(): Record<string, any>[] {
  const name = 'todo-deploy:network-policy-controller';
  const labels = { 'app.kubernetes.io/managed-by': 'todo-deploy-sandbox' };
  const read = ['get', 'list', 'watch'];
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels },
      rules: [
        { apiGroups: [''], resources: ['pods', 'namespaces', 'nodes', 'services', 'endpoints'], verbs: read },
        { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: read },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: read },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: POLICY_CONTROLLER_USER }],
    },
  ];
}

const CHAIN = /^(KUBE-ROUTER-(INPUT|FORWARD|OUTPUT)|KUBE-POD-FW-[A-Z0-9]+|KUBE-NWPLCY-[A-Z0-9]+)$/;
const IPSET = /^(inet6:)?KUBE-(SRC|DST)-[A-Z0-9]+$/;

/** kube-router's chains in `iptables-save -t filter` output. Pure. */
export function policyChains(save: string): string[] {
  return save.split('\n').flatMap((l) => {
    const m = /^:(\S+) /.exec(l);
    return m && CHAIN.test(m[1]!) ? [m[1]!] : [];
  });
}

/**
 * The `iptables-restore --noflush` input that removes kube-router's rules from the filter table:
 * the jumps from the built-in chains deleted, its chains emptied (a chain line empties an
 * existing chain), then deleted. Undefined when there is nothing of it. Pure.
 */
export function policyCleanupRestore(save: string): string | undefined {
  const chains = policyChains(save);
  const jumps = save.split('\n').filter((l) => /^-A (INPUT|FORWARD|OUTPUT) /.test(l) && / -j (\S+)/.exec(l) !== null && CHAIN.test(/ -j (\S+)/.exec(l)![1]!));
  if (chains.length === 0 && jumps.length === 0) return undefined;
  return ['*filter', ...chains.map((c) => `:${c} - [0:0]`), ...jumps.map((l) => l.replace(/^-A /, '-D ')), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/** kube-router's ipsets in `ipset list -n` output. Pure. */
export function policyIpsets(list: string): string[] {
  return list.split('\n').map((s) => s.trim()).filter((s) => IPSET.test(s));
}

function run(argv: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** What kube-router has in the node's namespace now: its chains and ipsets. */
export function policyState(netns = NETNS): { chains: string[]; ipsets: string[] } {
  const save = run(inNetns(['iptables-save', '-t', 'filter'], netns));
  const sets = run(inNetns(['ipset', 'list', '-n'], netns));
  return { chains: save.ok ? policyChains(save.out) : [], ipsets: sets.ok ? policyIpsets(sets.out) : [] };
}

/** The rules' text in the namespace's filter table (to see which pods have their chains yet). */
export function filterRules(netns = NETNS): string {
  const save = run(inNetns(['iptables-save', '-t', 'filter'], netns));
  return save.ok ? save.out : '';
}

/**
 * Removes kube-router's rules and ipsets from the node's namespace (kube-router must be stopped
 * first, or it puts them back). Returns what could not be removed (empty when clean).
 */
export function removePolicyRules(netns = NETNS): string[] {
  const left: string[] = [];
  const save = run(inNetns(['iptables-save', '-t', 'filter'], netns));
  if (!save.ok) return [`iptables-save in ${netns}: ${save.out.trim()}`];
  const restore = policyCleanupRestore(save.out);
  if (restore) {
    const r = run(inNetns(['iptables-restore', '--noflush'], netns), restore);
    if (!r.ok) left.push(`kube-router's iptables rules: ${r.out.trim()}`);
  }
  const sets = run(inNetns(['ipset', 'list', '-n'], netns));
  if (sets.ok) {
    for (const set of policyIpsets(sets.out)) {
      const r = run(inNetns(['ipset', 'destroy', set], netns));
      if (!r.ok) left.push(`ipset ${set}: ${r.out.trim()}`);
    }
  }
  return left;
}

/** What keeps enforcement from starting here: ipset missing (kube-router runs it). Empty when ready. */
export function policyControllerProblems(): string[] {
  const r = spawnSync('ipset', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? ['ipset is not installed (kube-router, the real node\'s NetworkPolicy controller, runs it): apt-get install ipset'] : [];
}
