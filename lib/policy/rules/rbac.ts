// Role & RoleBinding (data model §7): namespace-scoped, least privilege, every grant justified,
// and every binding connecting a declared ServiceAccount to a declared Role.
import type { Finding, Rule } from '../types.ts';
import { WHY_ANNOTATION, annotationsOf, asArray, findByName, namespaceOf, ofKind } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

const ROLE_KINDS = ['Role', 'ClusterRole'];

function eachRule(objects: readonly SourcedObject[], fn: (role: SourcedObject, rule: any, i: number) => Finding | undefined): Finding[] {
  const out: Finding[] = [];
  for (const role of ofKind(objects, ...ROLE_KINDS)) {
    asArray(role.object.rules).forEach((r, i) => {
      const f = fn(role, r ?? {}, i);
      if (f) out.push(f);
    });
  }
  return out;
}

const strings = (v: unknown) => asArray(v).map(String);

const namespaceScoped: Rule = {
  id: 'rbac/namespace-scoped',
  entity: 'rbac',
  title: 'Application RBAC is namespace-scoped: Roles and RoleBindings only, never ClusterRole or ClusterRoleBinding.',
  fix: 'Replace the ClusterRole/ClusterRoleBinding with a Role/RoleBinding in the application namespace.',
  security: true,
  source: 'Namespace-scoped only (no ClusterRole for applications)',
  equivalents: { kubeLinter: 'cluster-admin-role-binding (cluster-admin only)', polaris: 'clusterrolebindingClusterAdmin, rolebindingClusterAdminClusterRole (cluster-admin only)' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'ClusterRole', 'ClusterRoleBinding')) out.push({ target: s, path: ['kind'], message: `${s.object.kind} grants permissions across the whole cluster.` });
    for (const b of ofKind(objects, 'RoleBinding')) {
      if (b.object.roleRef?.kind !== 'Role') out.push({ target: b, path: ['roleRef', 'kind'], message: `binds a ${b.object.roleRef?.kind ?? 'missing'} roleRef instead of a namespaced Role.` });
    }
    return out;
  },
};

const noWildcards: Rule = {
  id: 'rbac/no-wildcards',
  entity: 'rbac',
  title: 'Role rules name their API groups, resources and verbs; no "*".',
  fix: 'Replace "*" with the exact apiGroups, resources and verbs the component uses.',
  security: true,
  source: 'No wildcard permissions (*) except where absolutely necessary',
  equivalents: { kubeLinter: 'wildcard-in-rules' },
  check: ({ objects }) =>
    eachRule(objects, (role, r, i) => {
      const fields = ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs'].filter((f) => strings(r[f]).some((v) => v.includes('*')));
      return fields.length > 0 ? { target: role, path: ['rules', i], message: `rule ${i} uses a wildcard in ${fields.join(', ')}.` } : undefined;
    }),
};

const SENSITIVE_VERBS = ['bind', 'escalate', 'impersonate'];

const noSensitiveVerbs: Rule = {
  id: 'rbac/no-sensitive-verbs',
  entity: 'rbac',
  title: 'Roles never grant bind, escalate or impersonate.',
  fix: 'Remove the bind/escalate/impersonate verbs; an application never needs them.',
  security: true,
  source: 'No sensitive verbs: bind, escalate, impersonate',
  check: ({ objects }) =>
    eachRule(objects, (role, r, i) => {
      const bad = strings(r.verbs).filter((v) => SENSITIVE_VERBS.includes(v.toLowerCase()));
      return bad.length > 0 ? { target: role, path: ['rules', i, 'verbs'], message: `rule ${i} grants ${bad.join(', ')}.` } : undefined;
    }),
};

// Grants that amount to reading every credential or running as another identity in the namespace.
const ANY_VERB = ['secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'serviceaccounts/token', 'nodes/proxy'];
const WORKLOADS = ['pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];
const RBAC_OBJECTS = ['roles', 'rolebindings'];
const WRITE_VERBS = ['create', 'update', 'patch'];

const leastPrivilege: Rule = {
  id: 'rbac/least-privilege',
  entity: 'rbac',
  title: 'Roles grant no access to Secrets, exec/attach/port-forward, token requests, workload creation or RBAC edits.',
  fix: 'Drop the grant; the apps get their secrets as environment variables and never need these powers.',
  security: true,
  source: 'Minimal permissions (principle of least privilege)',
  equivalents: { kubeLinter: 'access-to-secrets, access-to-create-pods', polaris: 'rolePodExecAttach' },
  check: ({ objects }) =>
    eachRule(objects, (role, r, i) => {
      const resources = strings(r.resources);
      const verbs = strings(r.verbs).map((v) => v.toLowerCase());
      const bad = [
        ...resources.filter((x) => ANY_VERB.includes(x)),
        ...resources.filter((x) => WORKLOADS.includes(x) && verbs.includes('create')).map((x) => `create ${x}`),
        ...resources.filter((x) => RBAC_OBJECTS.includes(x) && verbs.some((v) => WRITE_VERBS.includes(v))).map((x) => `write ${x}`),
      ];
      return bad.length > 0 ? { target: role, path: ['rules', i], message: `rule ${i} grants ${bad.join(', ')}.` } : undefined;
    }),
};

const rulesJustified: Rule = {
  id: 'rbac/rules-justified',
  entity: 'rbac',
  title: `Every Role says why it grants what it grants in a ${WHY_ANNOTATION} annotation.`,
  fix: `Add metadata.annotations["${WHY_ANNOTATION}"] naming the calls the component makes (or that it makes none).`,
  security: false,
  source: 'Minimal permissions; issue: each rule justified',
  check: ({ objects }) =>
    ofKind(objects, ...ROLE_KINDS)
      .filter((s) => typeof annotationsOf(s.object)[WHY_ANNOTATION] !== 'string' || annotationsOf(s.object)[WHY_ANNOTATION]!.trim() === '')
      .map((s) => ({ target: s, path: ['metadata'], message: `has no ${WHY_ANNOTATION} annotation explaining its rules.` })),
};

const bindingRefsExist: Rule = {
  id: 'rbac/binding-refs-exist',
  entity: 'rbac',
  title: 'RoleBindings bind declared ServiceAccounts to a Role declared in the same namespace.',
  fix: 'Point roleRef at a Role in the manifests and list only ServiceAccounts declared in the namespace as subjects.',
  security: false,
  source: 'RoleBinding connects: Service Account -> Role',
  check({ objects }) {
    const out: Finding[] = [];
    for (const b of ofKind(objects, 'RoleBinding')) {
      const ns = namespaceOf(b);
      const ref = b.object.roleRef ?? {};
      if (ref.kind === 'Role' && !findByName(objects, 'Role', ref.name, ns)) out.push({ target: b, path: ['roleRef', 'name'], message: `roleRef names Role "${ref.name}", which is not declared in namespace ${ns ?? '(none)'}.` });
      const subjects = asArray(b.object.subjects);
      if (subjects.length === 0) out.push({ target: b, path: ['subjects'], message: 'has no subjects.' });
      subjects.forEach((s: any, i) => {
        if (s?.kind !== 'ServiceAccount') out.push({ target: b, path: ['subjects', i], message: `subject ${i} is a ${s?.kind}, not a ServiceAccount.` });
        else if (!findByName(objects, 'ServiceAccount', s.name, s.namespace ?? ns)) out.push({ target: b, path: ['subjects', i], message: `subject ServiceAccount "${s.name}" is not declared in namespace ${s.namespace ?? ns}.` });
      });
    }
    return out;
  },
};

const rolePerServiceAccount: Rule = {
  id: 'rbac/role-per-serviceaccount',
  entity: 'rbac',
  title: 'Every ServiceAccount is bound to its own Role by a RoleBinding, so its permissions are stated, even when empty.',
  fix: 'Add a Role (rules may be empty) and a RoleBinding for the ServiceAccount in 20-rbac.yaml.',
  security: false,
  source: 'Service Account has: Role (RBAC permissions), bound via RoleBinding',
  check({ objects }) {
    const out: Finding[] = [];
    for (const sa of ofKind(objects, 'ServiceAccount')) {
      const bound = ofKind(objects, 'RoleBinding').some(
        (b) => namespaceOf(b) === namespaceOf(sa) && asArray(b.object.subjects).some((s: any) => s?.kind === 'ServiceAccount' && s?.name === sa.object.metadata.name && (s?.namespace ?? namespaceOf(b)) === namespaceOf(sa)),
      );
      if (!bound) out.push({ target: sa, path: ['metadata', 'name'], message: 'is not the subject of any RoleBinding.' });
    }
    return out;
  },
};

export const rbacRules: Rule[] = [namespaceScoped, noWildcards, noSensitiveVerbs, leastPrivilege, rulesJustified, bindingRefsExist, rolePerServiceAccount];
