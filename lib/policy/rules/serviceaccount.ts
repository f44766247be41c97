// Service Account (data model §6): each component runs under its own declared account, and an
// account whose Role grants nothing does not get an API token mounted.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { DNS1123_SUBDOMAIN, asArray, findByName, namespaceOf, ofKind, podTemplates, sameNamespace, type PodTemplate } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

export function serviceAccountOf(t: PodTemplate): string | undefined {
  const name = t.spec?.serviceAccountName ?? t.spec?.serviceAccount;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/** The rules granted to a ServiceAccount through RoleBindings (and Roles) of the set. */
export function grantedRules(objects: RuleInput['objects'], sa: SourcedObject): any[] {
  const ns = namespaceOf(sa);
  const rules: any[] = [];
  for (const b of ofKind(objects, 'RoleBinding', 'ClusterRoleBinding')) {
    const bound = asArray(b.object.subjects).some(
      (s: any) => s?.kind === 'ServiceAccount' && s?.name === sa.object.metadata.name && (s?.namespace ?? namespaceOf(b)) === ns,
    );
    if (!bound) continue;
    const ref = b.object.roleRef ?? {};
    const role = ref.kind === 'Role' ? findByName(objects, 'Role', ref.name, namespaceOf(b)) : findByName(objects, 'ClusterRole', ref.name, undefined);
    // A binding to a role outside the set (e.g. a built-in ClusterRole) grants an unknown amount.
    if (!role) return [{ unknown: ref.name }];
    rules.push(...asArray(role.object.rules));
  }
  return rules;
}

const notDefault: Rule = {
  id: 'serviceaccount/not-default',
  entity: 'serviceaccount',
  title: 'Pods name their own service account, never "default" (or none, which means default).',
  fix: 'Set spec.template.spec.serviceAccountName to the component account, e.g. backend-sa.',
  security: false,
  source: 'One service account per component (never use "default")',
  equivalents: { kubeLinter: 'default-service-account' },
  check: ({ objects }) =>
    podTemplates(objects)
      .filter((t) => (serviceAccountOf(t) ?? 'default') === 'default')
      .map((t) => ({ target: t.owner, path: [...t.path, 'spec'], message: 'runs under the namespace\'s "default" service account.' })),
};

const declared: Rule = {
  id: 'serviceaccount/declared',
  entity: 'serviceaccount',
  title: "A pod's service account is declared in the manifests, in the pod's namespace.",
  fix: 'Add the ServiceAccount to manifests/ (10-serviceaccounts.yaml) or correct serviceAccountName.',
  security: false,
  source: 'Must exist before pod creation',
  equivalents: { kubeLinter: 'non-existent-service-account' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      const name = serviceAccountOf(t);
      if (!name || name === 'default') continue; // serviceaccount/not-default reports it
      if (!findByName(objects, 'ServiceAccount', name, namespaceOf(t.owner))) {
        out.push({ target: t.owner, path: [...t.path, 'spec', 'serviceAccountName'], message: `service account "${name}" is not declared in namespace ${namespaceOf(t.owner) ?? '(none)'}.` });
      }
    }
    return out;
  },
};

const onePerComponent: Rule = {
  id: 'serviceaccount/one-per-component',
  entity: 'serviceaccount',
  title: 'No two workloads share a service account.',
  fix: 'Give each component its own ServiceAccount (frontend-sa, backend-sa, mcp-server-sa, ...).',
  security: false,
  source: 'One service account per component',
  check({ objects }) {
    const out: Finding[] = [];
    const seen = new Map<string, PodTemplate>();
    for (const t of podTemplates(objects)) {
      const name = serviceAccountOf(t);
      if (!name || name === 'default') continue;
      const key = `${namespaceOf(t.owner)}/${name}`;
      const first = seen.get(key);
      if (first) out.push({ target: t.owner, path: [...t.path, 'spec', 'serviceAccountName'], message: `shares service account "${name}" with ${first.owner.object.kind}/${first.owner.object.metadata.name}.` });
      else seen.set(key, t);
    }
    return out;
  },
};

const nameDns: Rule = {
  id: 'serviceaccount/name-dns',
  entity: 'serviceaccount',
  title: 'Service account names are DNS subdomains (lowercase letters, digits, "-" and ".").',
  fix: 'Rename the ServiceAccount, e.g. backend-sa.',
  security: false,
  source: 'Name must be DNS-compatible',
  check: ({ objects }) =>
    ofKind(objects, 'ServiceAccount')
      .filter((s) => !DNS1123_SUBDOMAIN.test(String(s.object.metadata.name)))
      .map((s) => ({ target: s, path: ['metadata', 'name'], message: `name "${s.object.metadata.name}" is not DNS-compatible.` })),
};

const tokenAutomount: Rule = {
  id: 'serviceaccount/token-automount',
  entity: 'serviceaccount',
  title: 'An account whose Roles grant nothing does not mount an API token (automountServiceAccountToken: false).',
  fix: 'Set automountServiceAccountToken: false on the ServiceAccount and do not set it true on the pod.',
  security: false,
  source: 'Issue: token automount off where the component does not call the API',
  equivalents: { polaris: 'automountServiceAccountToken' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const sa of ofKind(objects, 'ServiceAccount')) {
      if (grantedRules(objects, sa).length > 0) continue;
      if (sa.object.automountServiceAccountToken !== false) {
        out.push({ target: sa, path: ['automountServiceAccountToken'], message: 'mounts an API token into its pods although its Roles grant nothing.' });
      }
      for (const t of podTemplates(objects)) {
        if (serviceAccountOf(t) === sa.object.metadata.name && sameNamespace(t.owner, sa) && t.spec?.automountServiceAccountToken === true) {
          out.push({ target: t.owner, path: [...t.path, 'spec', 'automountServiceAccountToken'], message: `turns the token mount on for ${sa.object.metadata.name}, whose Roles grant nothing.` });
        }
      }
    }
    return out;
  },
};

export const serviceAccountRules: Rule[] = [notDefault, declared, onePerComponent, nameDns, tokenAutomount];
