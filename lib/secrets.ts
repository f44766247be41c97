// The Secret todo-secrets (data model §9) built from DATABASE_URL, OPENAI_API_KEY and
// BETTER_AUTH_SECRET. Values come from the process environment first (how CI passes secrets),
// then from .env at the repository root. The redaction that keeps them out of everything the
// tool prints lives in lib/output.ts, next to the state it keeps.
import { createHmac } from 'node:crypto';
import { UsageError, formatProblems, type Problem } from './errors.ts';
import type { Config } from './config.ts';
import type { KubeObject } from './types.ts';

export const SECRET_NAME = 'todo-secrets';

/** Secret key -> the variable it is read from. Keys are lowercase with hyphens (data model §9). */
export const SECRET_SOURCES = {
  'database-url': 'DATABASE_URL',
  'openai-api-key': 'OPENAI_API_KEY',
  'better-auth-secret': 'BETTER_AUTH_SECRET',
} as const;
export type SecretKey = keyof typeof SECRET_SOURCES | 'postgres-password';

/** Every key todo-secrets can carry; the policy gate checks secretKeyRefs against it. */
export const SECRET_KEYS: readonly SecretKey[] = [...Object.keys(SECRET_SOURCES) as SecretKey[], 'postgres-password'];

export interface Secrets {
  values: Record<SecretKey, string>;
  /** True when dev runs its own PostgreSQL because no external DATABASE_URL was given. */
  embeddedPostgres: boolean;
  /**
   * False when dev runs without OPENAI_API_KEY: the Secret then has no openai-api-key, the
   * backend's optional secretKeyRef leaves the variable unset, and /api/chat answers 503.
   */
  chat: boolean;
}

const MIN_AUTH_SECRET = 32;
const EMBEDDED_DB_USER = 'todo';
const EMBEDDED_DB_NAME = 'todo';

/**
 * The embedded database's password is derived from BETTER_AUTH_SECRET rather than drawn at
 * random, so that a second `up` renders the same Secret and changes nothing in the cluster.
 */
export function embeddedPostgresPassword(authSecret: string): string {
  return createHmac('sha256', authSecret).update('todo-deploy/embedded-postgres').digest('hex').slice(0, 32);
}

export function embeddedDatabaseUrl(namespace: string, password: string): string {
  return `postgresql://${EMBEDDED_DB_USER}:${password}@postgres-svc.${namespace}.svc.cluster.local:5432/${EMBEDDED_DB_NAME}`;
}

/**
 * Reads the secrets and says what is wrong with them, without throwing: `validate` renders with
 * what there is, `up` refuses (buildSecrets). Pure over its inputs; the values never appear in a
 * problem. A variable exported empty counts as unset, in the environment as in .env.
 */
export function readSecrets(config: Pick<Config, 'environment' | 'namespace' | 'dotenv'>, processEnv: Record<string, string | undefined>): { secrets: Secrets; problems: Problem[] } {
  const read = (variable: string) => {
    const fromProcess = processEnv[variable];
    if (fromProcess !== undefined && fromProcess.trim() !== '') return fromProcess.trim();
    return (config.dotenv[variable] ?? '').trim();
  };
  const problems: Problem[] = [];
  const missing = (key: string, variable: string, extra = '') =>
    problems.push({
      file: '.env',
      key: variable,
      message: `is missing or empty; it becomes ${SECRET_NAME}/${key}.${extra}`,
      fix: `copy env/.env.example to .env at the repository root and set ${variable} (or export it in the environment).`,
    });

  const databaseUrl = read('DATABASE_URL');
  const openaiKey = read('OPENAI_API_KEY');
  const authSecret = read('BETTER_AUTH_SECRET');
  const embeddedPostgres = config.environment === 'dev' && databaseUrl === '';
  if (databaseUrl === '' && !embeddedPostgres) {
    missing('database-url', 'DATABASE_URL', ' prod always uses an external database.');
  }
  // Chat is the one feature that needs a third party: dev runs without it; prod must not.
  if (openaiKey === '' && config.environment !== 'dev') missing('openai-api-key', 'OPENAI_API_KEY', ' prod always serves the chat endpoint.');
  if (authSecret === '') {
    missing('better-auth-secret', 'BETTER_AUTH_SECRET');
  } else if (authSecret.length < MIN_AUTH_SECRET) {
    problems.push({
      file: '.env',
      key: 'BETTER_AUTH_SECRET',
      message: `is shorter than ${MIN_AUTH_SECRET} characters, too weak to sign sessions.`,
      fix: 'generate one with `openssl rand -hex 32` and put it in .env.',
    });
  }
  const postgresPassword = embeddedPostgres && authSecret !== '' ? embeddedPostgresPassword(authSecret) : '';
  const secrets: Secrets = {
    embeddedPostgres,
    chat: openaiKey !== '',
    values: {
      'database-url': embeddedPostgres ? (postgresPassword ? embeddedDatabaseUrl(config.namespace, postgresPassword) : '') : databaseUrl,
      'openai-api-key': openaiKey,
      'better-auth-secret': authSecret,
      'postgres-password': postgresPassword,
    },
  };
  return { secrets, problems };
}

/** The problems as the one error `up` stops with (exit 2, nothing sent). */
export function secretsError(problems: Problem[]): UsageError {
  return new UsageError(formatProblems(`${problems.length} secret(s) are not usable; nothing was sent to a cluster:`, problems));
}

/**
 * Reads and checks the secrets. Pure over its inputs. Throws a UsageError naming every missing
 * key and pointing at env/.env.example; the values never appear in the message.
 */
export function buildSecrets(config: Pick<Config, 'environment' | 'namespace' | 'dotenv'>, processEnv: Record<string, string | undefined>): Secrets {
  const { secrets, problems } = readSecrets(config, processEnv);
  if (problems.length > 0) throw secretsError(problems);
  return secrets;
}

/** The Secret object. `data` (base64), not stringData: server-side apply then stays a no-op on re-runs. */
export function secretObject(namespace: string, secrets: Secrets): KubeObject {
  const data: Record<string, string> = {};
  for (const key of SECRET_KEYS) {
    const value = secrets.values[key];
    if (value !== '') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: SECRET_NAME,
      namespace,
      labels: { 'app.kubernetes.io/name': SECRET_NAME, 'app.kubernetes.io/component': 'secrets' },
    },
    type: 'Opaque',
    data,
  };
}
