// Ingress Route (data model §5): class, host, paths, and the Services it routes to.
import type { Finding, Rule } from '../types.ts';
import { asArray, findByName, namespaceOf, ofKind, type Path } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

interface BackendAt {
  service: any;
  path: Path;
}

function backendsOf(ing: SourcedObject): BackendAt[] {
  const out: BackendAt[] = [];
  const spec = ing.object.spec ?? {};
  if (spec.defaultBackend?.service) out.push({ service: spec.defaultBackend.service, path: ['spec', 'defaultBackend', 'service'] });
  asArray(spec.rules).forEach((r: any, i) =>
    asArray(r?.http?.paths).forEach((p: any, j) => {
      if (p?.backend?.service) out.push({ service: p.backend.service, path: ['spec', 'rules', i, 'http', 'paths', j, 'backend', 'service'] });
    }),
  );
  return out;
}

const classNginx: Rule = {
  id: 'ingress/class-nginx',
  entity: 'ingress',
  title: 'Ingresses set spec.ingressClassName: nginx.',
  fix: 'Set spec.ingressClassName: nginx (the class the cluster ingress addon registers).',
  security: false,
  source: 'Ingress class must be "nginx"',
  check: ({ objects }) =>
    ofKind(objects, 'Ingress')
      .filter((s) => s.object.spec?.ingressClassName !== 'nginx')
      .map((s) => ({ target: s, path: s.object.spec?.ingressClassName === undefined ? ['spec'] : ['spec', 'ingressClassName'], message: `ingressClassName is ${JSON.stringify(s.object.spec?.ingressClassName ?? null)}, not "nginx".` })),
};

const backendExists: Rule = {
  id: 'ingress/backend-exists',
  entity: 'ingress',
  title: 'Every Ingress backend names a Service of the same namespace and one of its ports.',
  fix: 'Point backend.service.name at a Service in the manifests (e.g. frontend-svc) and port.number at one of its ports.',
  security: false,
  source: 'Backend service must exist in same namespace',
  equivalents: { kubeLinter: 'dangling-ingress', kubeScore: 'ingress-targets-service' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Ingress')) {
      for (const b of backendsOf(s)) {
        const name = b.service?.name;
        const svc = findByName(objects, 'Service', String(name), namespaceOf(s));
        if (!svc) {
          out.push({ target: s, path: [...b.path, 'name'], message: `backend Service "${name}" does not exist in namespace ${namespaceOf(s) ?? '(none)'}.` });
          continue;
        }
        const port = b.service?.port ?? {};
        const ports = asArray(svc.object.spec?.ports);
        const ok = port.number !== undefined ? ports.some((p: any) => p?.port === port.number) : port.name !== undefined && ports.some((p: any) => p?.name === port.name);
        if (!ok) out.push({ target: s, path: [...b.path, 'port'], message: `backend port ${JSON.stringify(port.number ?? port.name ?? null)} is not a port of Service ${name}.` });
      }
    }
    return out;
  },
};

const hostResolvable: Rule = {
  id: 'ingress/host-resolvable',
  entity: 'ingress',
  title: 'Every Ingress rule names one concrete host (no wildcard, no catch-all) that /etc/hosts or DNS can resolve.',
  fix: 'Set rules[].host: ${DOMAIN} and map it to the cluster IP in /etc/hosts (dev) or DNS (prod).',
  security: false,
  source: 'Host must be resolvable (via /etc/hosts)',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Ingress')) {
      const rules = asArray(s.object.spec?.rules);
      if (rules.length === 0) out.push({ target: s, path: ['spec'], message: 'has no rules, so it has no host.' });
      rules.forEach((r: any, i) => {
        if (typeof r?.host !== 'string' || r.host === '') out.push({ target: s, path: ['spec', 'rules', i], message: `rule ${i} has no host, so it catches every hostname and none can be resolved for it.` });
        else if (r.host.includes('*')) out.push({ target: s, path: ['spec', 'rules', i, 'host'], message: `host "${r.host}" is a wildcard, which /etc/hosts cannot resolve.` });
      });
    }
    return out;
  },
};

// RFC 3986 path characters; ImplementationSpecific may use regexes, so it is only required to be absolute.
const URL_PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

const pathValid: Rule = {
  id: 'ingress/path-valid',
  entity: 'ingress',
  title: 'Ingress paths are absolute URL paths with a pathType of Exact, Prefix or ImplementationSpecific.',
  fix: 'Write path: / with pathType: Prefix (paths start with "/" and contain only URL path characters).',
  security: false,
  source: 'Path must be valid URL pattern',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Ingress')) {
      asArray(s.object.spec?.rules).forEach((r: any, i) =>
        asArray(r?.http?.paths).forEach((p: any, j) => {
          const at: Path = ['spec', 'rules', i, 'http', 'paths', j];
          if (!PATH_TYPES.includes(p?.pathType)) out.push({ target: s, path: at, message: `path ${JSON.stringify(p?.path)} has pathType ${JSON.stringify(p?.pathType ?? null)}.` });
          const path = p?.path;
          const valid = typeof path === 'string' && (p?.pathType === 'ImplementationSpecific' ? path.startsWith('/') : URL_PATH.test(path));
          if (!valid) out.push({ target: s, path: [...at, 'path'], message: `path ${JSON.stringify(path ?? null)} is not an absolute URL path.` });
        }),
      );
    }
    return out;
  },
};

/** Every backend written in the extensions/v1beta1 form: spec.backend, serviceName, servicePort. */
function legacyBackends(ing: SourcedObject): { path: Path; what: string }[] {
  const out: { path: Path; what: string }[] = [];
  const spec = ing.object.spec ?? {};
  const legacy = (b: any) => (b && typeof b === 'object' ? ['serviceName', 'servicePort'].filter((k) => b[k] !== undefined) : []);
  if (spec.backend !== undefined) out.push({ path: ['spec', 'backend'], what: 'spec.backend (now spec.defaultBackend)' });
  for (const [b, at] of [[spec.backend, ['spec', 'backend']], [spec.defaultBackend, ['spec', 'defaultBackend']]] as const) {
    const keys = legacy(b);
    if (keys.length > 0) out.push({ path: [...at, keys[0]!], what: keys.join(' and ') });
  }
  asArray(spec.rules).forEach((r: any, i) =>
    asArray(r?.http?.paths).forEach((p: any, j) => {
      const keys = legacy(p?.backend);
      if (keys.length > 0) out.push({ path: ['spec', 'rules', i, 'http', 'paths', j, 'backend', keys[0]!], what: keys.join(' and ') });
    }),
  );
  return out;
}

const currentBackendForm: Rule = {
  id: 'ingress/backend-current-form',
  entity: 'ingress',
  title: 'Ingress backends use the networking.k8s.io/v1 form backend.service.{name, port}, not the removed serviceName/servicePort.',
  fix: 'Write backend: {service: {name: <svc>, port: {number: <port>}}} (and spec.defaultBackend instead of spec.backend).',
  security: false,
  source: 'Issue: Ingress backends in the removed serviceName/servicePort form (gone with extensions/v1beta1 in Kubernetes 1.22)',
  equivalents: { kubeLinter: 'no-extensions-v1beta', kubeScore: 'stable-version' },
  check: ({ objects }) =>
    ofKind(objects, 'Ingress').flatMap((s) =>
      legacyBackends(s).map((b) => ({ target: s, path: b.path, message: `uses ${b.what}, a form networking.k8s.io/v1 removed: the API server drops or refuses it, so the route would have no backend.` })),
    ),
};

export const ingressRules: Rule[] = [classNginx, backendExists, hostResolvable, pathValid, currentBackendForm];
