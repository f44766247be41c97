// Network Policy (data model §8): deny everything by default, then allow named, justified flows
// whose ports are ones the Services actually expose.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { DNS1123_LABEL, WHY_ANNOTATION, annotationsOf, asArray, containersOf, isEmptySelector, mapSelectorMatches, namespaceOf, ofKind, podTemplates, sameNamespace, selectorMatches, type PodTemplate } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';
import { comparePaths, describesStack, type StackPod } from '../flows.ts';
import { COMPONENT_LABEL, describePorts } from '../paths.ts';

export function isDefaultDeny(np: SourcedObject): boolean {
  const spec = np.object.spec ?? {};
  const types = asArray(spec.policyTypes).map(String);
  return isEmptySelector(spec.podSelector) && types.includes('Ingress') && types.includes('Egress') && asArray(spec.ingress).length === 0 && asArray(spec.egress).length === 0;
}

function podsSelected(objects: RuleInput['objects'], np: SourcedObject, selector: any): PodTemplate[] {
  return podTemplates(objects).filter((t) => sameNamespace(t.owner, np) && selectorMatches(selector, t.labels));
}

const defaultDeny: Rule = {
  id: 'networkpolicy/default-deny',
  entity: 'networkpolicy',
  title: 'Every namespace with pods has a default deny-all NetworkPolicy for both ingress and egress.',
  fix: 'Add a NetworkPolicy with podSelector: {}, policyTypes: [Ingress, Egress] and no rules (50-networkpolicies.yaml).',
  security: true,
  source: 'Default deny-all must exist',
  equivalents: { kubeLinter: 'non-isolated-pod', polaris: 'missingNetworkPolicy', kubeScore: 'pod-networkpolicy' },
  check({ objects }) {
    const out: Finding[] = [];
    const namespaces = new Map<string, SourcedObject>();
    for (const t of podTemplates(objects)) {
      const ns = namespaceOf(t.owner) ?? '';
      if (!namespaces.has(ns)) namespaces.set(ns, objects.find((s) => s.object.kind === 'Namespace' && s.object.metadata.name === ns) ?? t.owner);
    }
    for (const [ns, target] of namespaces) {
      const has = ofKind(objects, 'NetworkPolicy').some((np) => (namespaceOf(np) ?? '') === ns && isDefaultDeny(np));
      if (!has) out.push({ target, path: ['metadata'], message: `namespace ${ns || '(none)'} has pods but no default deny-all NetworkPolicy for ingress and egress.` });
    }
    return out;
  },
};

const justified: Rule = {
  id: 'networkpolicy/justified',
  entity: 'networkpolicy',
  title: `Every allowing NetworkPolicy states its business reason in a ${WHY_ANNOTATION} annotation.`,
  fix: `Add metadata.annotations["${WHY_ANNOTATION}"], e.g. "the frontend server calls the backend API".`,
  security: false,
  source: 'Each allow rule must have clear business justification',
  check: ({ objects }) =>
    ofKind(objects, 'NetworkPolicy')
      .filter((np) => !isDefaultDeny(np))
      .filter((np) => typeof annotationsOf(np.object)[WHY_ANNOTATION] !== 'string' || annotationsOf(np.object)[WHY_ANNOTATION]!.trim() === '')
      .map((np) => ({ target: np, path: ['metadata'], message: `allows traffic without a ${WHY_ANNOTATION} annotation saying why.` })),
};

/** Pod ports (numbers and names) that some Service of the set forwards to, for one pod template. */
function exposedPorts(objects: RuleInput['objects'], t: PodTemplate): Set<string | number> {
  const out = new Set<string | number>();
  const containerPorts = containersOf(t).flatMap((c) => asArray(c.container.ports));
  for (const svc of ofKind(objects, 'Service')) {
    if (!sameNamespace(svc, t.owner) || !mapSelectorMatches(svc.object.spec?.selector, t.labels)) continue;
    for (const p of asArray(svc.object.spec?.ports)) {
      const target = p?.targetPort ?? p?.port;
      const cp = containerPorts.find((c: any) => c?.containerPort === target || (c?.name !== undefined && c?.name === target));
      out.add(target);
      if (cp?.containerPort !== undefined) out.add(cp.containerPort);
      if (cp?.name !== undefined) out.add(cp.name);
    }
  }
  return out;
}

const portsMatchServices: Rule = {
  id: 'networkpolicy/ports-match-services',
  entity: 'networkpolicy',
  title: 'Ports a NetworkPolicy opens between pods of the namespace are ports a Service exposes on those pods.',
  fix: 'Use the Service targetPort (e.g. 8000 for backend-svc), or expose the port through a Service first.',
  security: false,
  source: 'Port numbers must match service definitions',
  check({ objects }) {
    const out: Finding[] = [];
    for (const np of ofKind(objects, 'NetworkPolicy')) {
      const spec = np.object.spec ?? {};
      const check = (pods: PodTemplate[], ports: any[], at: (string | number)[], what: string) => {
        if (pods.length === 0) return; // networkpolicy/selects-pods reports it
        const exposed = new Set(pods.flatMap((t) => [...exposedPorts(objects, t)]));
        ports.forEach((p: any, k) => {
          if (p?.port === undefined) return;
          if (!exposed.has(p.port)) out.push({ target: np, path: [...at, 'ports', k], message: `${what} port ${JSON.stringify(p.port)} is not exposed by any Service on ${pods.map((t) => t.owner.object.metadata.name).join(', ')}.` });
        });
      };
      asArray(spec.ingress).forEach((r: any, i) => check(podsSelected(objects, np, spec.podSelector), asArray(r?.ports), ['spec', 'ingress', i], 'ingress'));
      asArray(spec.egress).forEach((r: any, i) => {
        const peers = asArray(r?.to);
        // Only flows to pods of this namespace have Services to compare with; DNS, the Dapr
        // control plane and external endpoints are reached through namespace or IP selectors.
        if (peers.length === 0 || !peers.every((p: any) => p?.podSelector && !p?.namespaceSelector && !p?.ipBlock)) return;
        const pods = peers.flatMap((p: any) => podsSelected(objects, np, p.podSelector));
        check(pods, asArray(r?.ports), ['spec', 'egress', i], 'egress');
      });
    }
    return out;
  },
};

const NAME_LABEL = 'kubernetes.io/metadata.name';

function namespaceSelectorProblem(sel: any): string | undefined {
  if (isEmptySelector(sel)) return 'an empty namespaceSelector selects every namespace';
  const names: unknown[] = [];
  if (sel.matchLabels?.[NAME_LABEL] !== undefined) names.push(sel.matchLabels[NAME_LABEL]);
  for (const e of asArray(sel.matchExpressions)) if (e?.key === NAME_LABEL && e?.operator === 'In') names.push(...asArray(e.values));
  if (names.length === 0) return `the namespaceSelector does not name namespaces through the ${NAME_LABEL} label`;
  const bad = names.filter((n) => typeof n !== 'string' || !DNS1123_LABEL.test(n));
  if (bad.length > 0) return `${bad.map((b) => JSON.stringify(b)).join(', ')} is not a valid namespace name`;
  return undefined;
}

const namespaceSelectorValid: Rule = {
  id: 'networkpolicy/namespace-selector-valid',
  entity: 'networkpolicy',
  title: `namespaceSelectors name real namespaces through the ${NAME_LABEL} label; never {} (all namespaces).`,
  fix: `Select the namespace by name: namespaceSelector: {matchLabels: {${NAME_LABEL}: kube-system}}.`,
  security: false,
  source: 'Namespace selectors must reference valid namespaces',
  check({ objects }) {
    const out: Finding[] = [];
    for (const np of ofKind(objects, 'NetworkPolicy')) {
      for (const dir of ['ingress', 'egress'] as const) {
        asArray(np.object.spec?.[dir]).forEach((r: any, i) =>
          asArray(r?.[dir === 'ingress' ? 'from' : 'to']).forEach((peer: any, j) => {
            if (!peer || !('namespaceSelector' in peer)) return;
            const problem = namespaceSelectorProblem(peer.namespaceSelector);
            if (problem) out.push({ target: np, path: ['spec', dir, i, dir === 'ingress' ? 'from' : 'to', j, 'namespaceSelector'], message: `${dir} rule ${i}: ${problem}.` });
          }),
        );
      }
    }
    return out;
  },
};

const selectsPods: Rule = {
  id: 'networkpolicy/selects-pods',
  entity: 'networkpolicy',
  title: "A NetworkPolicy's podSelector, and each same-namespace peer podSelector, matches a pod template.",
  fix: "Match the pod template labels (e.g. app.kubernetes.io/name: backend), or remove the policy for a component that is not deployed.",
  security: false,
  source: 'Applies to: Pods (via label selector)',
  equivalents: { kubeLinter: 'dangling-networkpolicy, dangling-networkpolicypeer-podselector', kubeScore: 'networkpolicy-targets-pod' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const np of ofKind(objects, 'NetworkPolicy')) {
      const spec = np.object.spec ?? {};
      if (!isEmptySelector(spec.podSelector) && podsSelected(objects, np, spec.podSelector).length === 0) {
        out.push({ target: np, path: ['spec', 'podSelector'], message: 'podSelector matches no pod template in the namespace.' });
      }
      for (const dir of ['ingress', 'egress'] as const) {
        const peersKey = dir === 'ingress' ? 'from' : 'to';
        asArray(spec[dir]).forEach((r: any, i) =>
          asArray(r?.[peersKey]).forEach((peer: any, j) => {
            if (!peer?.podSelector || peer.namespaceSelector || isEmptySelector(peer.podSelector)) return;
            if (podsSelected(objects, np, peer.podSelector).length === 0) out.push({ target: np, path: ['spec', dir, i, peersKey, j, 'podSelector'], message: `${dir} rule ${i} peer podSelector matches no pod template in the namespace.` });
          }),
        );
      }
    }
    return out;
  },
};

/** The stack's pod templates in the namespace, one per distinct set of labels. */
function stackPods(objects: RuleInput['objects'], namespace: string): StackPod[] {
  const seen = new Map<string, StackPod>();
  for (const t of podTemplates(objects)) {
    if ((namespaceOf(t.owner) ?? namespace) !== namespace) continue;
    const key = JSON.stringify(Object.entries(t.labels).sort());
    if (!seen.has(key)) seen.set(key, { name: t.labels[COMPONENT_LABEL] ?? String(t.owner.object.metadata?.name), labels: t.labels });
  }
  return [...seen.values()];
}

const intendedPaths: Rule = {
  id: 'networkpolicy/intended-paths',
  entity: 'networkpolicy',
  title: "The NetworkPolicies allow exactly the stack's intended paths (lib/policy/paths.ts): each one open, nothing else.",
  fix: 'Make the policies open the paths of lib/policy/paths.ts and nothing more; a new path is added there first (the real-node traffic matrix then tries it).',
  security: true,
  source: 'Default deny-all, then one allow rule per path (issue 16: the gate and the traffic matrix come from one description)',
  check({ objects, namespace }) {
    const stack = stackPods(objects, namespace);
    const policies = ofKind(objects, 'NetworkPolicy');
    const ours = policies.filter((np) => (namespaceOf(np) ?? namespace) === namespace);
    const deny = ours.find(isDefaultDeny);
    // Another stack (the rule tests' fixture), or no default deny (networkpolicy/default-deny says so).
    if (!deny || !describesStack(stack)) return [];
    const byName = (name: string) => ours.find((np) => np.object.metadata.name === name);
    return comparePaths(
      policies.map((np) => ({ ...np.object, metadata: { ...np.object.metadata, namespace: namespaceOf(np) ?? namespace } })),
      stack,
      namespace,
    ).map((m): Finding => {
      const ports = describePorts(m.ports);
      if (m.kind === 'opened') {
        const target = m.by.map(byName).find((np) => np !== undefined) ?? deny;
        return { target, path: ['spec'], message: `lets ${m.from.label} reach ${m.to.label} on ${ports}, which no intended path in lib/policy/paths.ts names (allowed by ${m.by.join(', ') || 'no isolation'}).`, fix: 'Narrow this policy to the paths of lib/policy/paths.ts, or add the path there first if it is meant.' };
      }
      return { target: deny, path: ['spec'], message: `blocks the intended path "${m.path!.name}": ${m.from.label} cannot reach ${m.to.label} on ${ports}.`, fix: `Add the caller's egress and the callee's ingress policy for it (manifests/50-networkpolicies.yaml), or remove the path from lib/policy/paths.ts.` };
    });
  },
};

export const networkPolicyRules: Rule[] = [defaultDeny, justified, portsMatchServices, namespaceSelectorValid, selectsPods, intendedPaths];
