// Deployment Configuration (data model §1): env/<environment>.env, then .env at the repository
// root, then command-line flags, merged into one typed object and validated by the data model's
// rules. Every problem is collected and reported at once so a user fixes them in one pass.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, formatProblems, type Problem } from './errors.ts';
import { parseEnvFile } from './env-file.ts';
import type { ImageKey } from './types.ts';

export const ENVIRONMENTS = ['dev', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** Settings a user may put in env/<env>.env, .env or override with a flag. */
export const SETTING_KEYS = [
  'NAMESPACE',
  'DOMAIN',
  'REPLICAS',
  'IMAGE_PULL_POLICY',
  'FRONTEND_IMAGE',
  'BACKEND_IMAGE',
  'MCP_SERVER_IMAGE',
  'POSTGRES_IMAGE',
  'REDIS_IMAGE',
  'IMAGE_TAG',
  'READY_TIMEOUT',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

/** Command-line flag for each setting, so errors can name the flag a value came from. */
export const SETTING_FLAGS: Record<SettingKey, string> = {
  NAMESPACE: '--namespace',
  DOMAIN: '--domain',
  REPLICAS: '--replicas',
  IMAGE_PULL_POLICY: '--image-pull-policy',
  FRONTEND_IMAGE: '--frontend-image',
  BACKEND_IMAGE: '--backend-image',
  MCP_SERVER_IMAGE: '--mcp-server-image',
  POSTGRES_IMAGE: '--postgres-image',
  REDIS_IMAGE: '--redis-image',
  IMAGE_TAG: '--image-tag',
  READY_TIMEOUT: '--timeout',
};

/**
 * Image repositories (no tag) of everything the pipeline builds: the three workloads and the
 * in-cluster stores (PostgreSQL, Redis), which are built here too because nothing is pulled.
 */
export type ImageNames = Record<ImageKey, string>;

/** The setting that names each image's repository (and the manifest variable of its ref). */
export const IMAGE_SETTINGS = {
  frontend: 'FRONTEND_IMAGE',
  backend: 'BACKEND_IMAGE',
  mcpServer: 'MCP_SERVER_IMAGE',
  postgres: 'POSTGRES_IMAGE',
  redis: 'REDIS_IMAGE',
} as const satisfies Record<keyof ImageNames, SettingKey>;

export interface Config {
  environment: Environment;
  namespace: string;
  domain: string;
  replicas: number;
  imagePullPolicy: 'Never' | 'IfNotPresent' | 'Always';
  /** Image repositories (no tag). */
  images: ImageNames;
  /** Tag used when images are not built by this run. */
  imageTag: string;
  readyTimeoutSeconds: number;
  /** Where each setting came from (a file path relative to the repo, or a flag). */
  sources: Record<SettingKey, string>;
  /** The raw key/value pairs of .env (secrets included): handed to lib/secrets, never printed. */
  dotenv: Record<string, string>;
  /**
   * Every non-secret key of env/<env>.env and .env (REGISTRY, MINIKUBE_PROFILE, ... included), for
   * the cluster providers; the process environment is layered over it by the caller.
   */
  fileSettings: Record<string, string>;
}

/** Variables that hold secrets: never part of fileSettings. */
const SECRET_VARIABLES = new Set(['DATABASE_URL', 'OPENAI_API_KEY', 'BETTER_AUTH_SECRET']);

export interface LoadConfigOptions {
  env?: string;
  repoRoot: string;
  /** Overrides from the command line, keyed by setting. */
  flags?: Partial<Record<SettingKey, string>>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Namespaces of the cluster itself (and of add-ons, by the *-system convention): never the stack's. */
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease', 'default'];

/** True for a namespace the stack must never be deployed into: `down` would delete what others own. */
export function isSystemNamespace(name: string): boolean {
  return SYSTEM_NAMESPACES.includes(name) || name.endsWith('-system');
}
// A hostname: dot-separated DNS labels, 253 characters at most, no trailing dot.
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
// An image repository without tag or digest: optional registry host[:port], lowercase path.
const IMAGE_REPOSITORY = /^([a-z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SEMVER = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const COMMIT_SHA = /^[0-9a-f]{7,40}$/;

/** The pull policies each environment allows: local images are never pulled in dev. */
export const PULL_POLICIES: Record<Environment, readonly string[]> = {
  dev: ['Never'],
  prod: ['IfNotPresent', 'Always'],
};

/** True for a tag the data model accepts: semver or a commit SHA, never "latest". */
export function isAcceptedImageTag(tag: string): boolean {
  return SEMVER.test(tag) || COMMIT_SHA.test(tag);
}

/** The manifest folder rendered when --manifests is not given. */
export const DEFAULT_MANIFESTS_DIR = 'manifests';

export function envFilePath(environment: string): string {
  return `env/${environment}.env`;
}

/** The file's pairs, or undefined when it does not exist; its problems are added to `problems`. */
function readEnvFile(repoRoot: string, rel: string, problems: Problem[]): Record<string, string> | undefined {
  const abs = path.join(repoRoot, rel);
  if (!existsSync(abs)) return undefined;
  const parsed = parseEnvFile(readFileSync(abs, 'utf8'), rel);
  problems.push(...parsed.problems);
  return parsed.values;
}

/**
 * Validates merged settings. Pure: takes the values with their sources and returns every
 * problem found, so the rules are unit-tested without files.
 */
export function validateSettings(
  environment: Environment,
  values: Partial<Record<SettingKey, string>>,
  sources: Partial<Record<SettingKey, string>>,
): Problem[] {
  const problems: Problem[] = [];
  const where = (key: SettingKey) => sources[key] ?? envFilePath(environment);
  const add = (key: SettingKey, message: string, fix: string) =>
    problems.push({ file: where(key), key, message, fix });

  for (const key of SETTING_KEYS) {
    if (values[key] === undefined || values[key] === '') {
      add(key, 'is missing or empty.', `set ${key}=... in ${envFilePath(environment)} (see env/dev.env for an example).`);
    }
  }
  const v = (key: SettingKey) => values[key] ?? '';

  if (v('NAMESPACE') && !DNS_LABEL.test(v('NAMESPACE'))) {
    add('NAMESPACE', `"${v('NAMESPACE')}" is not a DNS label.`, 'use lowercase letters, digits and hyphens, at most 63 characters, starting and ending with a letter or digit (for example "todo").');
  } else if (v('NAMESPACE') && isSystemNamespace(v('NAMESPACE'))) {
    add('NAMESPACE', `"${v('NAMESPACE')}" is a system namespace (kube-system, kube-public, kube-node-lease, default and every *-system belong to the cluster and its add-ons); the stack would mix with objects it does not own.`, 'give the stack a namespace of its own, for example NAMESPACE=todo (or --namespace todo).');
  }
  if (v('DOMAIN') && !HOSTNAME.test(v('DOMAIN'))) {
    add('DOMAIN', `"${v('DOMAIN')}" is not a valid hostname.`, 'use lowercase dot-separated labels without scheme, port or path (for example "todo.local").');
  }
  if (v('REPLICAS') && !(/^\d+$/.test(v('REPLICAS')) && Number(v('REPLICAS')) >= 1)) {
    add('REPLICAS', `"${v('REPLICAS')}" is not an integer >= 1.`, 'set a whole number of pod replicas, 1 or more.');
  }
  const policy = v('IMAGE_PULL_POLICY');
  if (policy && !PULL_POLICIES[environment].includes(policy)) {
    const allowed = PULL_POLICIES[environment].join(' or ');
    const why = environment === 'dev'
      ? 'dev images are built locally and loaded into the cluster, so the kubelet must never try to pull them'
      : 'prod images come from a registry';
    add('IMAGE_PULL_POLICY', `"${policy}" does not match the ${environment} environment: ${why}.`, `set IMAGE_PULL_POLICY=${PULL_POLICIES[environment][0]} (allowed: ${allowed}).`);
  }
  for (const key of Object.values(IMAGE_SETTINGS)) {
    const image = v(key);
    if (image && !IMAGE_REPOSITORY.test(image)) {
      add(key, `"${image}" is not an image repository name (a tag or digest does not belong here).`, 'give the repository only, lowercase, for example "todo-backend" or "registry.example.com/todo/backend"; the tag comes from the build or IMAGE_TAG.');
    }
  }
  const tag = v('IMAGE_TAG');
  if (tag && (!IMAGE_TAG.test(tag) || !isAcceptedImageTag(tag))) {
    const what = tag === 'latest' ? '"latest" is never accepted: it names no fixed image' : `"${tag}" is neither a semantic version nor a commit SHA`;
    add('IMAGE_TAG', `${what}.`, 'use a version like 1.4.2 or a commit SHA like 3f9a1c2.');
  }
  const timeout = v('READY_TIMEOUT');
  if (timeout && !(/^\d+$/.test(timeout) && Number(timeout) >= 1)) {
    add('READY_TIMEOUT', `"${timeout}" is not a whole number of seconds >= 1.`, 'set the readiness deadline in seconds, for example 300.');
  }
  return problems;
}

export function loadConfig(options: LoadConfigOptions): Config {
  const environment = options.env ?? 'dev';
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new UsageError(`Unknown environment "${environment}" given to --env. Fix: use --env dev or --env prod (each reads env/<name>.env).`);
  }
  const env = environment as Environment;
  const envRel = envFilePath(env);
  const fileProblems: Problem[] = [];
  const base = readEnvFile(options.repoRoot, envRel, fileProblems);
  if (!base) {
    throw new UsageError(`The settings file ${envRel} does not exist. Fix: restore it from the repository (git checkout -- ${envRel}).`);
  }
  const dotenv = readEnvFile(options.repoRoot, '.env', fileProblems) ?? {};
  if (fileProblems.length > 0) {
    throw new UsageError(formatProblems(`${fileProblems.length} line(s) of the settings files cannot be read; nothing was sent to a cluster:`, fileProblems));
  }

  const values: Partial<Record<SettingKey, string>> = {};
  const sources: Partial<Record<SettingKey, string>> = {};
  const layers: Array<[string, Partial<Record<string, string>>]> = [
    [envRel, base],
    ['.env', dotenv],
  ];
  for (const [source, layer] of layers) {
    for (const key of SETTING_KEYS) {
      const value = layer[key];
      if (value !== undefined && value !== '') {
        values[key] = value.trim();
        sources[key] = source;
      }
    }
  }
  for (const key of SETTING_KEYS) {
    const value = options.flags?.[key];
    if (value !== undefined) {
      values[key] = value.trim();
      sources[key] = SETTING_FLAGS[key];
    }
  }

  const problems = validateSettings(env, values, sources);
  if (problems.length > 0) {
    throw new UsageError(formatProblems(`The ${env} configuration has ${problems.length} problem(s); nothing was sent to a cluster:`, problems));
  }
  return {
    environment: env,
    namespace: values.NAMESPACE!,
    domain: values.DOMAIN!,
    replicas: Number(values.REPLICAS),
    imagePullPolicy: values.IMAGE_PULL_POLICY as Config['imagePullPolicy'],
    images: {
      frontend: values.FRONTEND_IMAGE!,
      backend: values.BACKEND_IMAGE!,
      mcpServer: values.MCP_SERVER_IMAGE!,
      postgres: values.POSTGRES_IMAGE!,
      redis: values.REDIS_IMAGE!,
    },
    imageTag: values.IMAGE_TAG!,
    readyTimeoutSeconds: Number(values.READY_TIMEOUT),
    sources: sources as Record<SettingKey, string>,
    dotenv,
    fileSettings: Object.fromEntries(Object.entries({ ...base, ...dotenv }).filter(([key]) => !SECRET_VARIABLES.has(key))),
  };
}
