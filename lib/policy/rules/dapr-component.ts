// Dapr Component (data model §10): a known building-block type with a version, scoped to the app
// ids that use it, and holding credentials only through secretKeyRef.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { asArray, namespaceOf, ofKind, podTemplates } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

// Building blocks Dapr components implement, each followed by the implementation (state.redis).
const COMPONENT_TYPE = /^(state|pubsub|bindings|secretstores|configuration|lock|crypto|middleware\.http|nameresolution|conversation|workflow)\.[a-z0-9]+([.-][a-z0-9]+)*$/;
const VERSION = /^v\d+(alpha\d*|beta\d*)?$/;
const CREDENTIAL = /(password|passwd|secret|token|apikey|accesskey|secretkey|connectionstring|credential|privatekey|clientkey|sasl)/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

const components = (objects: RuleInput['objects']) => ofKind(objects, 'Component').filter((s) => String(s.object.apiVersion).startsWith('dapr.io/'));

/** App ids of Dapr-enabled pod templates in a namespace. */
export function daprAppIds(objects: RuleInput['objects'], namespace: string | undefined): string[] {
  return podTemplates(objects)
    .filter((t) => namespaceOf(t.owner) === namespace && t.annotations['dapr.io/enabled'] === 'true')
    .map((t) => t.annotations['dapr.io/app-id'])
    .filter((id): id is string => typeof id === 'string');
}

const typeValid: Rule = {
  id: 'dapr-component/type-valid',
  entity: 'dapr-component',
  title: 'A Dapr Component type is <building block>.<implementation>, e.g. state.redis or pubsub.redis.',
  fix: 'Set spec.type to a Dapr component type such as state.redis, pubsub.redis or state.postgresql.',
  security: false,
  source: 'Type must be valid Dapr component type',
  check: ({ objects }) =>
    components(objects)
      .filter((s) => typeof s.object.spec?.type !== 'string' || !COMPONENT_TYPE.test(s.object.spec.type))
      .map((s) => ({ target: s, path: ['spec', 'type'], message: `type ${JSON.stringify(s.object.spec?.type ?? null)} is not a Dapr component type.` })),
};

const versionSet: Rule = {
  id: 'dapr-component/version-set',
  entity: 'dapr-component',
  title: 'A Dapr Component states its version (v1, v2, v1alpha1, ...).',
  fix: 'Set spec.version: v1.',
  security: false,
  source: 'Version must be specified',
  check: ({ objects }) =>
    components(objects)
      .filter((s) => typeof s.object.spec?.version !== 'string' || !VERSION.test(s.object.spec.version))
      .map((s) => ({ target: s, path: ['spec', 'version'], message: `version ${JSON.stringify(s.object.spec?.version ?? null)} is missing or malformed.` })),
};

const scopesSet: Rule = {
  id: 'dapr-component/scopes-set',
  entity: 'dapr-component',
  title: 'A Dapr Component lists the app ids allowed to use it in scopes (never empty, which means every app).',
  fix: 'Add top-level scopes: [backend] naming the app ids that use the component.',
  security: false,
  source: 'Scopes must list specific app IDs (never empty)',
  check: ({ objects }) =>
    components(objects)
      .filter((s) => {
        const scopes = asArray(s.object.scopes);
        return scopes.length === 0 || scopes.some((x) => typeof x !== 'string' || x.trim() === '');
      })
      .map((s) => ({ target: s, path: ['scopes'], message: 'has no scopes, so every Dapr app in the namespace can use it.' })),
};

const scopeAppExists: Rule = {
  id: 'dapr-component/scope-app-exists',
  entity: 'dapr-component',
  title: "Every scope names the dapr.io/app-id of a Dapr-enabled pod in the Component's namespace.",
  fix: 'Correct the scope to an existing app id (e.g. backend) or annotate the workload with dapr.io/app-id.',
  security: false,
  source: 'Scopes must list specific app IDs; Used by: backend service (via Dapr sidecar)',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of components(objects)) {
      const ids = daprAppIds(objects, namespaceOf(s));
      asArray(s.object.scopes).forEach((scope, i) => {
        if (typeof scope === 'string' && scope.trim() !== '' && !ids.includes(scope)) {
          out.push({ target: s, path: ['scopes', i], message: `scope "${scope}" is not the app id of any Dapr-enabled pod (known: ${ids.join(', ') || 'none'}).` });
        }
      });
    }
    return out;
  },
};

const secretKeyRef: Rule = {
  id: 'dapr-component/secret-key-ref',
  entity: 'dapr-component',
  title: 'Dapr Component credentials come through secretKeyRef, never as plain metadata values.',
  fix: 'Replace value: with secretKeyRef: {name: todo-secrets, key: ...} (or drop the credential when the service needs none).',
  security: true,
  source: 'All credentials via secretKeyRef (never plain text)',
  check({ objects }) {
    const out: Finding[] = [];
    const plain = (s: SourcedObject) =>
      asArray(s.object.spec?.metadata).forEach((m: any, i) => {
        if (m?.secretKeyRef || m?.value === undefined || m?.value === null || m?.value === '') return;
        if (CREDENTIAL.test(String(m?.name)) || URL_WITH_PASSWORD.test(String(m.value))) {
          out.push({ target: s, path: ['spec', 'metadata', i, 'value'], message: `metadata "${m.name}" carries a credential as a plain value.` });
        }
      });
    components(objects).forEach(plain);
    return out;
  },
};

export const daprComponentRules: Rule[] = [typeValid, versionSet, scopesSet, scopeAppExists, secretKeyRef];
