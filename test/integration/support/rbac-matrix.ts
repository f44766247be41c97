// Pure helpers for the RBAC integration suite: what a set of Role rules grants, expanded into
// concrete requests to put to the API server as SubjectAccessReviews; the matrix of sensitive
// requests no component of the stack should be able to make; and RBAC's own matching rules
// (verbs, API groups, resources with subresources, resource names) so that the matrix leaves out
// exactly the requests a Role grants on purpose. No I/O here.

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** One request as SubjectAccessReview's resourceAttributes name it. No namespace: cluster-scoped. */
export interface AccessRequest {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  name?: string;
  namespace?: string;
}

/** "list secrets in todo", "create deployments.apps in kube-system", "list nodes (cluster-wide)". */
export function describeRequest(r: AccessRequest): string {
  const what = `${r.resource}${r.subresource ? `/${r.subresource}` : ''}${r.group ? `.${r.group}` : ''}`;
  const name = r.name ? ` ${r.name}` : '';
  return `${r.verb} ${what}${name} ${r.namespace ? `in ${r.namespace}` : '(cluster-wide)'}`;
}

/** "pods/log" -> { resource: pods, subresource: log }. */
function splitResource(resource: string): { resource: string; subresource?: string } {
  const slash = resource.indexOf('/');
  return slash === -1 ? { resource } : { resource: resource.slice(0, slash), subresource: resource.slice(slash + 1) };
}

/**
 * Every concrete request the rules grant in `namespace`: one per verb x API group x resource
 * (x resource name, when the rule names some). A wildcard stays a literal "*", which a
 * SubjectAccessReview matches only against a rule holding "*" too: the expansion asks
 * exactly what the rule says. nonResourceURLs mean nothing in a Role and are left out.
 */
export function expandRules(rules: readonly PolicyRule[], namespace: string): AccessRequest[] {
  const out: AccessRequest[] = [];
  for (const rule of rules) {
    const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
    for (const verb of rule.verbs ?? []) {
      for (const group of rule.apiGroups ?? []) {
        for (const full of rule.resources ?? []) {
          for (const name of names) {
            out.push({ verb, group, ...splitResource(full), ...(name ? { name } : {}), namespace });
          }
        }
      }
    }
  }
  return out;
}

/** RBAC's matching of one rule against one request (as kube-apiserver's rbac validation does it). */
export function ruleGrants(rule: PolicyRule, r: AccessRequest): boolean {
  const verbs = rule.verbs ?? [];
  if (!verbs.includes('*') && !verbs.includes(r.verb)) return false;
  const groups = rule.apiGroups ?? [];
  if (!groups.includes('*') && !groups.includes(r.group)) return false;
  const combined = r.subresource ? `${r.resource}/${r.subresource}` : r.resource;
  const resourceMatch = (rule.resources ?? []).some(
    (res) => res === '*' || res === combined || (r.subresource !== undefined && res === `*/${r.subresource}`),
  );
  if (!resourceMatch) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (r.name !== undefined && names.includes(r.name));
}

/** Whether a Role of `roleNamespace` with these rules grants the request (only ever in its own namespace). */
export function roleGrants(rules: readonly PolicyRule[], roleNamespace: string, r: AccessRequest): boolean {
  return r.namespace === roleNamespace && rules.some((rule) => ruleGrants(rule, r));
}

const RBAC = 'rbac.authorization.k8s.io';

/**
 * Requests that would let a compromised component read credentials, run code, or widen its own
 * rights, asked in each of `namespaces`, plus the cluster-scoped ones once.
 */
export function sensitiveRequests(namespaces: readonly string[], secretName: string): AccessRequest[] {
  const namespaced: Omit<AccessRequest, 'namespace'>[] = [
    { verb: 'get', group: '', resource: 'secrets' },
    { verb: 'get', group: '', resource: 'secrets', name: secretName },
    { verb: 'list', group: '', resource: 'secrets' },
    { verb: 'watch', group: '', resource: 'secrets' },
    { verb: 'list', group: '', resource: 'pods' },
    { verb: 'create', group: '', resource: 'pods' },
    { verb: 'create', group: '', resource: 'pods', subresource: 'exec' },
    { verb: 'create', group: 'apps', resource: 'deployments' },
    { verb: 'patch', group: 'apps', resource: 'deployments' },
    { verb: 'get', group: '', resource: 'configmaps' },
    { verb: 'create', group: '', resource: 'serviceaccounts', subresource: 'token' },
    { verb: 'impersonate', group: '', resource: 'serviceaccounts' },
    { verb: 'create', group: RBAC, resource: 'roles' },
    { verb: 'create', group: RBAC, resource: 'rolebindings' },
    { verb: 'bind', group: RBAC, resource: 'roles' },
    { verb: 'escalate', group: RBAC, resource: 'roles' },
    { verb: 'bind', group: RBAC, resource: 'clusterroles' },
    { verb: 'escalate', group: RBAC, resource: 'clusterroles' },
  ];
  const clusterScoped: AccessRequest[] = [
    { verb: 'impersonate', group: '', resource: 'users' },
    { verb: 'impersonate', group: '', resource: 'groups' },
    { verb: 'list', group: '', resource: 'namespaces' },
    { verb: 'list', group: '', resource: 'nodes' },
    { verb: 'list', group: '', resource: 'secrets' },
    { verb: 'create', group: RBAC, resource: 'clusterrolebindings' },
  ];
  return [...namespaces.flatMap((namespace) => namespaced.map((r) => ({ ...r, namespace }))), ...clusterScoped];
}

/**
 * Rules flattened to one string per verb, API group, resource and resource name, for comparing
 * what a rules review reports with what the Roles say regardless of how the rules are grouped.
 */
export function ruleAtoms(rules: readonly PolicyRule[]): Set<string> {
  const atoms = new Set<string>();
  for (const rule of rules) {
    if (rule.nonResourceURLs?.length) {
      for (const verb of rule.verbs ?? []) for (const url of rule.nonResourceURLs) atoms.add(`${verb} ${url}`);
      continue;
    }
    const names = rule.resourceNames?.length ? rule.resourceNames : [''];
    for (const verb of rule.verbs ?? []) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const name of names) atoms.add(`${verb} ${resource}${group ? `.${group}` : ''}${name ? `/${name}` : ''}`);
        }
      }
    }
  }
  return atoms;
}

/** Elements of a not in b, sorted (for assertion messages). */
export function minus(a: Iterable<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort();
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

/** The user name and groups a service account's token authenticates as. */
export function serviceAccountIdentity(namespace: string, name: string): { user: string; groups: string[] } {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}

/**
 * Whether a binding subject applies to the service account: named as a ServiceAccount (the
 * namespace defaults to the binding's own), as its user name, or as one of its groups.
 */
export function subjectMatches(subject: Subject, bindingNamespace: string | undefined, saNamespace: string, saName: string): boolean {
  const id = serviceAccountIdentity(saNamespace, saName);
  switch (subject.kind) {
    case 'ServiceAccount':
      return subject.name === saName && (subject.namespace ?? bindingNamespace) === saNamespace;
    case 'User':
      return subject.name === id.user;
    case 'Group':
      return id.groups.includes(subject.name);
    default:
      return false;
  }
}
