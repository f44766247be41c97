// Deployment Configuration (data model §1). The configuration reaches the cluster only through the
// rendered objects, so its rules are checked where its values land: namespaces, replica counts,
// pull policies and the Ingress host. That way `validate --manifests DIR` judges any folder.
import type { Finding, Rule } from '../types.ts';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, asArray, containersOf, isClusterScoped, labelsOf, ofKind, podTemplates, refOf } from '../objects.ts';

const namespaceName: Rule = {
  id: 'config/namespace-name',
  entity: 'config',
  title: 'Namespace names are lowercase alphanumerics and hyphens (a DNS label).',
  fix: 'Use a name like "todo": lowercase letters, digits and "-", at most 63 characters, starting and ending with a letter or digit.',
  security: false,
  source: 'Namespace must be lowercase alphanumeric + hyphens',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of objects) {
      if (s.object.kind === 'Namespace' && !DNS1123_LABEL.test(String(s.object.metadata.name))) {
        out.push({ target: s, path: ['metadata', 'name'], message: `Namespace name "${s.object.metadata.name}" is not a DNS label.` });
      }
      const ns = s.object.metadata?.namespace;
      if (ns !== undefined && !DNS1123_LABEL.test(String(ns))) {
        out.push({ target: s, path: ['metadata', 'namespace'], message: `metadata.namespace "${ns}" is not a DNS label.` });
      }
    }
    return out;
  },
};

const configuredNamespace: Rule = {
  id: 'config/configured-namespace',
  entity: 'config',
  title: 'Every namespaced object lives in the configured namespace (NAMESPACE), so `down` finds and removes it.',
  fix: 'Set metadata.namespace: ${NAMESPACE}; to deploy elsewhere, change NAMESPACE (or pass --namespace), not the manifest.',
  security: false,
  exceptable: false,
  source: 'Issue: objects in a namespace other than the configured one are refused, so down can always remove everything up made',
  check({ objects, namespace }) {
    const out: Finding[] = [];
    for (const s of objects) {
      if (isClusterScoped(s.object)) continue;
      const ns = s.object.metadata?.namespace;
      if (ns !== undefined && ns !== '' && ns !== namespace) {
        out.push({ target: s, path: ['metadata', 'namespace'], message: `${refOf(s.object)} is in namespace "${ns}", not the configured namespace "${namespace}"; \`down\` removes only what is in "${namespace}", so it would be left behind.` });
      }
    }
    return out;
  },
};

const singleNamespace: Rule = {
  id: 'config/single-namespace',
  entity: 'config',
  title: 'The only Namespace in the manifests is the configured one: the stack creates no other.',
  fix: 'Remove the extra Namespace object; to deploy elsewhere, set NAMESPACE (or --namespace) instead.',
  security: false,
  exceptable: false,
  source: 'Issue: extra Namespace objects are refused, so down can always remove everything up made',
  check: ({ objects, namespace }) =>
    ofKind(objects, 'Namespace')
      .filter((s) => s.object.metadata?.name !== namespace)
      .map((s) => ({ target: s, path: ['metadata', 'name'], message: `Namespace "${s.object.metadata?.name}" is not the configured namespace "${namespace}"; \`down\` would never remove this one.` })),
};

const namespaceDeclared: Rule = {
  id: 'config/namespace-declared',
  entity: 'config',
  title: 'Every namespaced object names its namespace, and that Namespace is part of the manifests.',
  fix: 'Set metadata.namespace: ${NAMESPACE} and keep the Namespace object in manifests/ so it is created first.',
  security: false,
  source: 'Namespace must exist before install; namespace is always the configured one',
  check({ objects, namespace }) {
    const declared = new Set(ofKind(objects, 'Namespace').map((s) => s.object.metadata.name));
    const out: Finding[] = [];
    for (const s of objects) {
      if (isClusterScoped(s.object)) continue;
      const ns = s.object.metadata?.namespace;
      if (ns === undefined || ns === '') {
        out.push({ target: s, path: ['metadata'], message: `${refOf(s.object)} has no metadata.namespace; it would land in whatever namespace the current context uses.` });
      } else if (ns === namespace && !declared.has(ns)) {
        // An object in another namespace is config/configured-namespace's to report.
        out.push({ target: s, path: ['metadata', 'namespace'], message: `namespace "${ns}" is not declared by a Namespace object in the manifests.`, fix: `Add a Namespace "${ns}" to the manifests or move the object to a declared namespace.` });
      }
    }
    return out;
  },
};

const replicasMin: Rule = {
  id: 'config/replicas-min',
  entity: 'config',
  title: 'Replica counts are whole numbers of at least 1.',
  fix: 'Set spec.replicas: ${REPLICAS} with REPLICAS a whole number >= 1.',
  security: false,
  source: 'Replica count must be >= 1',
  equivalents: { polaris: 'deploymentMissingReplicas (stricter: wants >= 2)', kubeScore: 'deployment-replicas (stricter: wants >= 2)' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Deployment', 'StatefulSet', 'ReplicaSet')) {
      const r = s.object.spec?.replicas;
      if (r === undefined) continue; // the API server defaults to 1
      if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) {
        out.push({ target: s, path: ['spec', 'replicas'], message: `spec.replicas is ${JSON.stringify(r)}, not a whole number >= 1.` });
      }
    }
    return out;
  },
};

/**
 * dev: images built locally are loaded into the cluster, so Never (the shipped manifests use it
 * for every container, Redis and PostgreSQL included: the pipeline builds them too); IfNotPresent
 * is still accepted for an image from a remote registry in a folder given to
 * `validate --manifests`, as the data model allows. Always would re-pull and fail for loaded
 * images. prod: images come from a registry, so Never (nothing is preloaded) is refused.
 */
const PULL_POLICIES = { dev: ['Never', 'IfNotPresent'], prod: ['IfNotPresent', 'Always'] } as const;

const imagePullPolicy: Rule = {
  id: 'config/image-pull-policy',
  entity: 'config',
  title: 'Every container sets an imagePullPolicy that suits the environment (dev: Never/IfNotPresent, prod: IfNotPresent/Always).',
  fix: 'Set imagePullPolicy: ${IMAGE_PULL_POLICY} on images the pipeline builds; an image pulled from a remote registry uses IfNotPresent.',
  security: false,
  source: 'Image pull policy must match environment (Never for local, IfNotPresent for remote registries)',
  equivalents: { polaris: 'pullPolicyNotAlways (wants Always everywhere)', kubeScore: 'container-image-pull-policy (wants Always everywhere)' },
  check({ objects, environment }) {
    const allowed: readonly string[] = PULL_POLICIES[environment];
    const out: Finding[] = [];
    for (const t of podTemplates(objects)) {
      for (const c of containersOf(t)) {
        const p = c.container.imagePullPolicy;
        if (p === undefined) {
          out.push({ target: t.owner, path: c.path, message: `container "${c.container.name}" leaves imagePullPolicy to the tag-dependent default.` });
        } else if (!allowed.includes(p)) {
          out.push({ target: t.owner, path: [...c.path, 'imagePullPolicy'], message: `container "${c.container.name}" uses imagePullPolicy ${p}, which does not suit ${environment} (allowed: ${allowed.join(', ')}).` });
        }
      }
    }
    return out;
  },
};

const domainHostname: Rule = {
  id: 'config/domain-hostname',
  entity: 'config',
  title: 'Ingress hosts (the configured domain) are valid lowercase hostnames.',
  fix: 'Set DOMAIN to a hostname such as todo.local: dot-separated labels, no scheme, port or path.',
  security: false,
  source: 'Domain must be valid hostname format',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Ingress')) {
      asArray(s.object.spec?.rules).forEach((r: any, i) => {
        const host = r?.host;
        if (host === undefined) return; // ingress/host-resolvable reports a missing host
        const name = String(host).replace(/^\*\./, '');
        if (!DNS1123_SUBDOMAIN.test(name)) {
          out.push({ target: s, path: ['spec', 'rules', i, 'host'], message: `host "${host}" is not a valid hostname.` });
        }
      });
    }
    return out;
  },
};

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const COMMON_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];
const POD_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of'];

const recommendedLabels: Rule = {
  id: 'config/recommended-labels',
  entity: 'config',
  title: 'Objects carry the app.kubernetes.io name, part-of and managed-by labels; pod templates also instance and component.',
  fix: 'Add the missing app.kubernetes.io/* labels (part-of: todo, managed-by: todo-deploy).',
  security: false,
  source: 'Issue: labels following the app.kubernetes.io/* conventions throughout',
  equivalents: { kubeScore: 'label-values' },
  check({ objects }) {
    const out: Finding[] = [];
    const missing = (labels: Record<string, string>, keys: string[]) =>
      keys.filter((k) => typeof labels[k] !== 'string' || labels[k] === '' || !LABEL_VALUE.test(labels[k]));
    for (const s of objects) {
      const gaps = missing(labelsOf(s.object), COMMON_LABELS);
      if (gaps.length > 0) out.push({ target: s, path: ['metadata'], message: `missing or invalid label(s): ${gaps.join(', ')}.` });
    }
    for (const t of podTemplates(objects)) {
      if (t.owner.object.kind === 'Pod') continue;
      const gaps = missing(t.labels, POD_LABELS);
      if (gaps.length > 0) out.push({ target: t.owner, path: [...t.path, 'metadata'], message: `pod template is missing label(s): ${gaps.join(', ')}.` });
    }
    return out;
  },
};

export const configRules: Rule[] = [namespaceName, namespaceDeclared, configuredNamespace, singleNamespace, replicasMin, imagePullPolicy, domainHostname, recommendedLabels];
