// Kubernetes Secret (data model §9): Secrets never live in the repository, their keys and data are
// well-formed, and every reference to a secret key points at a key that will exist.
import type { Finding, Rule, RuleInput } from '../types.ts';
import { asArray, containersOf, findByName, namespaceOf, ofKind, podTemplates, type Path } from '../objects.ts';
import type { SourcedObject } from '../../types.ts';

export const DEFAULT_SECRET_NAME = 'todo-secrets';
const KEY_FORMAT = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Keys each built-in Secret type must carry (their names are fixed by Kubernetes, not by us). */
const TYPE_KEYS: Record<string, string[]> = {
  Opaque: [],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/basic-auth': [],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/service-account-token': [],
};

const typeOf = (s: SourcedObject) => String(s.object.type ?? 'Opaque');
const keysOf = (s: SourcedObject) => [...Object.keys(s.object.data ?? {}), ...Object.keys(s.object.stringData ?? {})];

export interface SecretRef {
  owner: SourcedObject;
  name: string;
  /** Undefined for a whole-Secret reference (envFrom). */
  key?: string;
  path: Path;
  usage: 'env' | 'dapr';
}

/** Every reference to a Secret key: container env, envFrom, and Dapr Component metadata. */
export function secretRefs(objects: RuleInput['objects']): SecretRef[] {
  const out: SecretRef[] = [];
  for (const t of podTemplates(objects)) {
    for (const c of containersOf(t)) {
      asArray(c.container.env).forEach((e: any, i) => {
        const ref = e?.valueFrom?.secretKeyRef;
        if (ref) out.push({ owner: t.owner, name: String(ref.name), key: String(ref.key), path: [...c.path, 'env', i, 'valueFrom', 'secretKeyRef'], usage: 'env' });
      });
      asArray(c.container.envFrom).forEach((e: any, i) => {
        if (e?.secretRef) out.push({ owner: t.owner, name: String(e.secretRef.name), path: [...c.path, 'envFrom', i, 'secretRef'], usage: 'env' });
      });
    }
  }
  for (const comp of ofKind(objects, 'Component')) {
    asArray(comp.object.spec?.metadata).forEach((m: any, i) => {
      const ref = m?.secretKeyRef;
      if (ref) out.push({ owner: comp, name: String(ref.name), key: String(ref.key ?? ref.name), path: ['spec', 'metadata', i, 'secretKeyRef'], usage: 'dapr' });
    });
  }
  return out;
}

const notCommitted: Rule = {
  id: 'secret/not-committed',
  entity: 'secret',
  title: 'No Secret is part of the manifests: secret values never enter Git.',
  fix: 'Delete the Secret from the manifests; put the value in .env (see env/.env.example) and the pipeline creates todo-secrets.',
  security: true,
  source: 'Never commit to Git',
  check: ({ objects, manifestFiles }) =>
    ofKind(objects, 'Secret')
      .filter((s) => manifestFiles.includes(s.file))
      .map((s) => ({ target: s, path: ['kind'], message: `Secret ${s.object.metadata.name} is written in a manifest file, so its values would be committed.` })),
};

const keyFormat: Rule = {
  id: 'secret/key-format',
  entity: 'secret',
  title: 'Keys of generic (Opaque) Secrets are lowercase words joined by hyphens.',
  fix: 'Rename the key, e.g. DATABASE_URL -> database-url.',
  security: false,
  source: 'Keys must be lowercase with hyphens',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Secret').filter((x) => typeOf(x) === 'Opaque')) {
      for (const field of ['data', 'stringData'] as const) {
        for (const key of Object.keys(s.object[field] ?? {})) {
          if (!KEY_FORMAT.test(key)) out.push({ target: s, path: [field, key], message: `key "${key}" is not lowercase-with-hyphens.` });
        }
      }
    }
    return out;
  },
};

const dataBase64: Rule = {
  id: 'secret/data-base64',
  entity: 'secret',
  title: 'Values under a Secret\'s data are base64-encoded (plain text belongs in stringData).',
  fix: 'Encode the value with base64, or move it to stringData.',
  security: false,
  source: 'Values must be base64-encoded in `data` field',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Secret')) {
      for (const [key, value] of Object.entries(s.object.data ?? {})) {
        if (typeof value !== 'string' || !BASE64.test(value.replace(/\s+/g, ''))) out.push({ target: s, path: ['data', key], message: `data.${key} is not valid base64.` });
      }
    }
    return out;
  },
};

const typeMatchesUsage: Rule = {
  id: 'secret/type-matches-usage',
  entity: 'secret',
  title: 'A Secret has a known type with its required keys, and is used as that type (Opaque for env and Dapr).',
  fix: 'Use type Opaque for generic key/value secrets, kubernetes.io/tls for Ingress TLS, kubernetes.io/dockerconfigjson for imagePullSecrets.',
  security: false,
  source: 'Type must match usage (Opaque for generic secrets)',
  check({ objects }) {
    const out: Finding[] = [];
    for (const s of ofKind(objects, 'Secret')) {
      const type = typeOf(s);
      const required = TYPE_KEYS[type];
      if (!required) {
        out.push({ target: s, path: ['type'], message: `type "${type}" is not a Secret type this deployment uses.` });
        continue;
      }
      const missing = required.filter((k) => !keysOf(s).includes(k));
      if (missing.length > 0) out.push({ target: s, path: ['type'], message: `a ${type} Secret needs key(s) ${missing.join(', ')}.` });
    }
    const expect = (owner: SourcedObject, name: string, ns: string | undefined, want: string, path: Path, how: string) => {
      const secret = findByName(objects, 'Secret', name, ns);
      if (secret && typeOf(secret) !== want) out.push({ target: owner, path, message: `${how} Secret ${name}, which is of type ${typeOf(secret)}, not ${want}.` });
    };
    for (const ref of secretRefs(objects)) expect(ref.owner, ref.name, namespaceOf(ref.owner), 'Opaque', ref.path, ref.usage === 'dapr' ? 'reads credentials from' : 'reads environment from');
    for (const t of podTemplates(objects)) {
      asArray(t.spec?.imagePullSecrets).forEach((p: any, i) => expect(t.owner, String(p?.name), namespaceOf(t.owner), 'kubernetes.io/dockerconfigjson', [...t.path, 'spec', 'imagePullSecrets', i], 'pulls images with'));
    }
    for (const ing of ofKind(objects, 'Ingress')) {
      asArray(ing.object.spec?.tls).forEach((tls: any, i) => {
        if (tls?.secretName) expect(ing, String(tls.secretName), namespaceOf(ing), 'kubernetes.io/tls', ['spec', 'tls', i, 'secretName'], 'terminates TLS with');
      });
    }
    return out;
  },
};

const keyRefExists: Rule = {
  id: 'secret/key-ref-exists',
  entity: 'secret',
  title: 'Every secretKeyRef names todo-secrets (or a Secret of the set) and a key that Secret has.',
  fix: 'Use a key todo-secrets carries (database-url, openai-api-key, better-auth-secret, postgres-password) or add the key to the pipeline\'s secrets.',
  security: false,
  source: 'Secrets referenced by Pods and Dapr Components (via secretKeyRef)',
  equivalents: { kubeLinter: 'env-value-from' },
  check({ objects, secretKeys, secretName }) {
    const pipelineSecret = secretName ?? DEFAULT_SECRET_NAME;
    const out: Finding[] = [];
    for (const ref of secretRefs(objects)) {
      if (ref.name === pipelineSecret) {
        if (ref.key !== undefined && !secretKeys.includes(ref.key)) {
          out.push({ target: ref.owner, path: ref.path, message: `refers to key "${ref.key}" of ${pipelineSecret}, which has only ${secretKeys.join(', ') || 'no keys'}.` });
        }
        continue;
      }
      const secret = findByName(objects, 'Secret', ref.name, namespaceOf(ref.owner));
      if (!secret) out.push({ target: ref.owner, path: ref.path, message: `refers to Secret "${ref.name}", which is neither ${pipelineSecret} nor declared in the namespace.` });
      else if (ref.key !== undefined && !keysOf(secret).includes(ref.key)) out.push({ target: ref.owner, path: ref.path, message: `refers to key "${ref.key}" of Secret ${ref.name}, which does not have it.` });
    }
    return out;
  },
};

const CREDENTIAL_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|DATABASE_URL|CONNECTION_?STRING|DSN)$/i;
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

/** What secret/no-plaintext-credentials refuses: a credential word at the end, or a URL carrying a password. */
function endsLikeCredential(name: string, value: string): boolean {
  return CREDENTIAL_NAME.test(name) || URL_WITH_PASSWORD.test(value);
}

interface LiteralEnv {
  owner: SourcedObject;
  container: string;
  name: string;
  value: string;
  path: Path;
}

/** Every env entry of every container that sets a non-empty literal value. */
function literalEnv(objects: RuleInput['objects']): LiteralEnv[] {
  const out: LiteralEnv[] = [];
  for (const t of podTemplates(objects)) {
    for (const c of containersOf(t)) {
      asArray(c.container.env).forEach((e: any, i) => {
        if (typeof e?.value === 'string' && e.value !== '') out.push({ owner: t.owner, container: String(c.container.name), name: String(e?.name ?? ''), value: e.value, path: [...c.path, 'env', i, 'value'] });
      });
    }
  }
  return out;
}

const noPlaintextCredentials: Rule = {
  id: 'secret/no-plaintext-credentials',
  entity: 'secret',
  title: 'Credentials reach containers through secretKeyRef, never as literal env values.',
  fix: 'Replace value: with valueFrom.secretKeyRef {name: todo-secrets, key: ...}.',
  security: true,
  source: 'Secrets: all credentials in Secrets, never plain text (Validation Summary)',
  equivalents: { kubeLinter: 'env-var-secret', polaris: 'sensitiveContainerEnvVar' },
  check: ({ objects }) =>
    literalEnv(objects)
      .filter((e) => endsLikeCredential(e.name, e.value))
      .map((e) => ({ target: e.owner, path: e.path, message: `container "${e.container}" sets ${e.name} to a literal value; credentials must come from a Secret.` })),
};

// A credential word anywhere in the name, as its own word: SECRET_KEY_BASE, DB_PASSWORD_PLAIN,
// GITHUB_TOKEN_V2, OPENAI_API_KEY_2, apiKeyHeader. Plurals count; TOKENIZER does not.
const CREDENTIAL_WORD = /(^|_)(PASSWORDS?|PASSWD|SECRETS?|TOKENS?|API_?KEYS?|PRIVATE_?KEYS?|CREDENTIALS?)(_|$)/;
// The convention for handing a program a mounted Secret: POSTGRES_PASSWORD_FILE=/run/secrets/pg.
const FILE_POINTER = /_(FILE|PATH)$/;

/** The name as upper-case words joined by "_": camelCase and kebab-case split into words. */
function words(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
}

const credentialWordInName: Rule = {
  id: 'secret/credential-word-in-name',
  entity: 'secret',
  title: 'Env vars with a credential word inside their name (SECRET_…, …_PASSWORD_…, …TOKEN…, …API_KEY…) take their value from a Secret too.',
  fix: 'Use valueFrom.secretKeyRef to a key of todo-secrets (adding the key to the pipeline\'s secrets if it is new); if the value is no credential, rename the variable.',
  security: true,
  source: 'Secrets: all credentials in Secrets, never plain text (Validation Summary); issue: credential words anywhere in the name',
  equivalents: { kubeLinter: 'env-var-secret', polaris: 'sensitiveContainerEnvVar' },
  check: ({ objects }) =>
    literalEnv(objects)
      .filter((e) => !endsLikeCredential(e.name, e.value) && CREDENTIAL_WORD.test(words(e.name)))
      .filter((e) => !(FILE_POINTER.test(words(e.name)) && e.value.startsWith('/')))
      .map((e) => ({ target: e.owner, path: e.path, message: `container "${e.container}" sets ${e.name}, whose name says it holds a credential, to a literal value.` })),
};

export const secretRules: Rule[] = [notCommitted, keyFormat, dataBase64, typeMatchesUsage, keyRefExists, noPlaintextCredentials, credentialWordInName];
