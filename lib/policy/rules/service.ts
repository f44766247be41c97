// Service (data model §4): names, ports, and the cross-object links to the pods it exposes.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { DNS1035_LABEL, asArray, containersOf, mapSelectorMatches, ofKind, podTemplates, sameNamespace, type PodTemplate } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

/** Pod templates in the Service's namespace whose labels its selector matches. */
export function podsOfService(objects: RuleInput['objects'], svc: SourcedObject): PodTemplate[] {
  return podTemplates(objects).filter((t) => sameNamespace(t.owner, svc) && mapSelectorMatches(svc.object.spec?.selector, t.labels));
}

const needsSelector = (svc: SourcedObject) => svc.object.spec?.type !== 'ExternalName';

const selectorMatchesPod: Rule = {
  id: 'service/selector-matches-pod',
  entity: 'service',
  title: "A Service's selector is non-empty and matches the labels of a pod template in its namespace.",
  fix: "Make spec.selector a subset of the Deployment's pod template labels (e.g. app.kubernetes.io/name: backend).",
  security: false,
  source: 'Selector labels must match pod labels exactly',
  equivalents: { kubeLinter: 'dangling-service', kubeScore: 'service-targets-pod' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Service').filter(needsSelector)) {
      const sel = s.object.spec?.selector;
      if (!sel || Object.keys(sel).length === 0) {
        out.push({ target: s, path: ['spec'], message: 'has no selector, so no pod backs it.' });
      } else if (podsOfService(objects, s).length === 0) {
        const text = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
        out.push({ target: s, path: ['spec', 'selector'], message: `selector ${text} matches no pod template in namespace ${s.object.metadata.namespace ?? '(none)'}.` });
      }
    }
    return out;
  },
};

const targetPortExists: Rule = {
  id: 'service/target-port-exists',
  entity: 'service',
  title: "Every Service targetPort is a port (number or name) that the selected pods' containers declare.",
  fix: 'Set targetPort to the containerPort (or its name) the application listens on, and declare it under the container ports.',
  security: false,
  source: 'Target ports must match container ports',
  equivalents: { kubeLinter: 'invalid-target-ports (checks port name syntax only)' },
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Service').filter(needsSelector)) {
      const pods = podsOfService(objects, s);
      if (pods.length === 0) continue; // service/selector-matches-pod reports it
      asArray(s.object.spec?.ports).forEach((p: any, i) => {
        const target = p?.targetPort ?? p?.port;
        const served = pods.filter((t) =>
          containersOf(t).some((c) => asArray(c.container.ports).some((cp: any) => (typeof target === 'number' ? cp?.containerPort === target : cp?.name === target))),
        );
        if (served.length < pods.length) {
          const missing = pods.filter((t) => !served.includes(t)).map((t) => `${t.owner.object.kind}/${t.owner.object.metadata.name}`);
          out.push({ target: s, path: ['spec', 'ports', i], message: `targetPort ${JSON.stringify(target)} is not a container port of ${missing.join(', ')}.` });
        }
      });
    }
    return out;
  },
};

const nameDns: Rule = {
  id: 'service/name-dns',
  entity: 'service',
  title: 'Service names are DNS labels: lowercase letters, digits and hyphens, starting with a letter.',
  fix: 'Rename the Service, e.g. backend-svc (at most 63 characters).',
  security: false,
  source: 'Service name must be DNS-compatible (lowercase, hyphens only); Service names must be DNS-compatible (§2)',
  check: ({ objects }) =>
    ofKind(objects, 'Service')
      .filter((s) => !DNS1035_LABEL.test(String(s.object.metadata.name)))
      .map((s) => ({ target: s, path: ['metadata', 'name'], message: `name "${s.object.metadata.name}" is not a DNS label.` })),
};

const hasPorts: Rule = {
  id: 'service/has-ports',
  entity: 'service',
  title: 'A Service defines at least one port.',
  fix: 'Add spec.ports with port and targetPort (e.g. port: 8000, targetPort: 8000).',
  security: false,
  source: 'At least one port defined',
  check: ({ objects }) =>
    ofKind(objects, 'Service')
      .filter((s) => needsSelector(s) && asArray(s.object.spec?.ports).length === 0)
      .map((s) => ({ target: s, path: ['spec'], message: 'defines no ports.' })),
};

export const serviceRules: Rule[] = [selectorMatchesPod, targetPortExists, nameDns, hasPorts];
