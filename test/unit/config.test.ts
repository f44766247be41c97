// Deployment Configuration: each validation rule of the data model, every problem reported at
// once naming its file and key, and the layering env/<env>.env < .env < flags. Files are written
// to throwaway repository roots so the real env/ folder is never involved.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { usageError } from '../support/assert-errors.ts';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadConfig,
  validateSettings,
  isAcceptedImageTag,
  SETTING_KEYS,
  type Environment,
  type SettingKey,
} from '../../lib/config.ts';

type Settings = Record<SettingKey, string>;

const DEV: Settings = {
  NAMESPACE: 'todo',
  DOMAIN: 'todo.local',
  REPLICAS: '1',
  IMAGE_PULL_POLICY: 'Never',
  FRONTEND_IMAGE: 'todo-frontend',
  BACKEND_IMAGE: 'todo-backend',
  MCP_SERVER_IMAGE: 'todo-mcp-server',
  POSTGRES_IMAGE: 'todo-postgres',
  REDIS_IMAGE: 'todo-redis',
  IMAGE_TAG: '0.1.0',
  READY_TIMEOUT: '300',
};
const PROD: Settings = { ...DEV, DOMAIN: 'todo.example.com', REPLICAS: '2', IMAGE_PULL_POLICY: 'IfNotPresent', READY_TIMEOUT: '600' };

const roots: string[] = [];

function envText(values: Record<string, string>): string {
  return `${Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

/** A throwaway repository root holding the given files (relative path -> text). */
function repo(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-config-'));
  roots.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}


/** The problems validateSettings finds when one key of a valid environment is changed. */
function problemsWith(environment: Environment, key: SettingKey, value: string) {
  const base = environment === 'dev' ? DEV : PROD;
  const sources = Object.fromEntries(SETTING_KEYS.map((k) => [k, `env/${environment}.env`]));
  return validateSettings(environment, { ...base, [key]: value }, sources);
}

function rejects(environment: Environment, key: SettingKey, value: string): void {
  const problems = problemsWith(environment, key, value);
  assert.is(problems.length, 1, `${key}=${JSON.stringify(value)} should give exactly one problem, got ${JSON.stringify(problems)}`);
  assert.is(problems[0].key, key);
  assert.is(problems[0].file, `env/${environment}.env`);
  assert.ok(problems[0].fix.length > 0, 'a problem carries its fix');
}

function accepts(environment: Environment, key: SettingKey, value: string): void {
  const problems = problemsWith(environment, key, value);
  assert.equal(problems, [], `${key}=${JSON.stringify(value)} should be accepted`);
}

// ---------------------------------------------------------------------------------------------
const rules = suite('config: validation rules');

rules('the dev and prod settings of this shape are valid as they are', () => {
  assert.equal(validateSettings('dev', DEV, {}), []);
  assert.equal(validateSettings('prod', PROD, {}), []);
});

rules('NAMESPACE must be a DNS label', () => {
  for (const ok of ['todo', 'a', 'todo-2', '0todo', 'a'.repeat(63)]) accepts('dev', 'NAMESPACE', ok);
  for (const bad of ['Todo', 'todo_app', '-todo', 'todo-', 'todo.app', 'a'.repeat(64), 'to do']) rejects('dev', 'NAMESPACE', bad);
  const [problem] = problemsWith('dev', 'NAMESPACE', 'Todo_App');
  assert.match(problem.message, '"Todo_App" is not a DNS label');
});

rules('NAMESPACE is never a system namespace: the cluster\'s own, default, or any *-system', () => {
  for (const ok of ['todo', 'systems', 'system-todo', 'todo-systemd', 'kube-todo']) accepts('dev', 'NAMESPACE', ok);
  for (const bad of ['kube-system', 'kube-public', 'kube-node-lease', 'default', 'dapr-system', 'ingress-system']) {
    rejects('dev', 'NAMESPACE', bad);
    rejects('prod', 'NAMESPACE', bad);
  }
  const [problem] = problemsWith('dev', 'NAMESPACE', 'kube-system');
  assert.match(problem.message, '"kube-system" is a system namespace');
  assert.match(problem.fix, 'NAMESPACE=todo (or --namespace todo)');
});

rules('REPLICAS must be an integer >= 1', () => {
  for (const ok of ['1', '2', '10']) accepts('dev', 'REPLICAS', ok);
  for (const bad of ['0', '-1', '1.5', 'two', '1e2', '+3']) rejects('dev', 'REPLICAS', bad);
  assert.match(problemsWith('prod', 'REPLICAS', '0')[0].message, 'not an integer >= 1');
});

rules('IMAGE_PULL_POLICY must match the environment: Never for dev, IfNotPresent or Always for prod', () => {
  accepts('dev', 'IMAGE_PULL_POLICY', 'Never');
  rejects('dev', 'IMAGE_PULL_POLICY', 'IfNotPresent');
  rejects('dev', 'IMAGE_PULL_POLICY', 'Always');
  rejects('dev', 'IMAGE_PULL_POLICY', 'never');
  accepts('prod', 'IMAGE_PULL_POLICY', 'IfNotPresent');
  accepts('prod', 'IMAGE_PULL_POLICY', 'Always');
  rejects('prod', 'IMAGE_PULL_POLICY', 'Never');
  const [dev] = problemsWith('dev', 'IMAGE_PULL_POLICY', 'Always');
  assert.match(dev.message, 'dev environment');
  assert.match(dev.fix, 'IMAGE_PULL_POLICY=Never');
  const [prod] = problemsWith('prod', 'IMAGE_PULL_POLICY', 'Never');
  assert.match(prod.fix, 'IfNotPresent');
});

rules('DOMAIN must be a hostname: no scheme, port, path, empty label or trailing dot', () => {
  for (const ok of ['todo.local', 'localhost', 'todo.example.com', 'a-b.c-d.example', `${'a'.repeat(63)}.local`]) accepts('dev', 'DOMAIN', ok);
  for (const bad of ['http://todo.local', 'todo.local:8080', 'todo.local/app', 'todo..local', '-todo.local', 'todo.local.', `${'a'.repeat(64)}.local`, 'todo_local', 'todo local']) {
    rejects('dev', 'DOMAIN', bad);
  }
  const long = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.'); // 304 characters
  rejects('dev', 'DOMAIN', long);
});

rules('image settings are repositories: a tag, digest or uppercase letter is refused', () => {
  for (const ok of ['todo-backend', 'registry.example.com/todo/backend', 'localhost:5000/todo-backend', 'todo_backend', 'ghcr.io/org/todo.backend']) {
    accepts('dev', 'BACKEND_IMAGE', ok);
  }
  for (const key of ['FRONTEND_IMAGE', 'BACKEND_IMAGE', 'MCP_SERVER_IMAGE', 'POSTGRES_IMAGE', 'REDIS_IMAGE'] as const) {
    for (const bad of ['todo-backend:0.1.0', 'todo-backend@sha256:0123456789abcdef', 'Todo-Backend', 'todo-backend/', '/todo-backend']) rejects('dev', key, bad);
  }
  assert.match(problemsWith('dev', 'FRONTEND_IMAGE', 'todo-frontend:latest')[0].message, 'a tag or digest does not belong here');
});

rules('IMAGE_TAG is a semantic version or a commit SHA, never "latest"', () => {
  for (const ok of ['0.1.0', 'v1.4.2', '1.0.0-rc.1', '3f9a1c2', '3f9a1c2b7d4e', 'a'.repeat(40)]) accepts('dev', 'IMAGE_TAG', ok);
  // "+build" is semver but not a valid image tag character, so the registry could not hold it.
  for (const bad of ['latest', 'stable', '1.2', 'v1', '3F9A1C2', 'abc123', 'a'.repeat(41), 'my tag', '1.0.0+build.7']) rejects('dev', 'IMAGE_TAG', bad);
  assert.match(problemsWith('dev', 'IMAGE_TAG', 'latest')[0].message, '"latest" is never accepted');
  assert.match(problemsWith('dev', 'IMAGE_TAG', 'stable')[0].message, 'neither a semantic version nor a commit SHA');
  assert.ok(isAcceptedImageTag('2.0.0'));
  assert.not.ok(isAcceptedImageTag('latest'));
});

rules('READY_TIMEOUT is a whole number of seconds >= 1', () => {
  for (const ok of ['1', '300', '3600']) accepts('dev', 'READY_TIMEOUT', ok);
  for (const bad of ['0', '-5', '5m', '1.5', 'soon']) rejects('dev', 'READY_TIMEOUT', bad);
});

rules('a missing or empty setting is a problem of its own, named with the file to set it in', () => {
  for (const key of SETTING_KEYS) {
    const values: Partial<Settings> = { ...DEV };
    delete values[key];
    const problems = validateSettings('dev', values, {});
    assert.is(problems.length, 1, `without ${key}`);
    assert.is(problems[0].key, key);
    assert.is(problems[0].file, 'env/dev.env');
    assert.match(problems[0].message, 'missing or empty');
    assert.match(problems[0].fix, `${key}=`);
    assert.equal(validateSettings('dev', { ...DEV, [key]: '' }, {}).map((p) => p.key), [key]);
  }
});

rules('a problem names where its value came from', () => {
  const problems = validateSettings('dev', { ...DEV, REPLICAS: '0', DOMAIN: 'bad domain' }, { REPLICAS: '--replicas', DOMAIN: '.env' });
  assert.equal(problems.map((p) => [p.key, p.file]), [['DOMAIN', '.env'], ['REPLICAS', '--replicas']]);
});

rules.run();

// ---------------------------------------------------------------------------------------------
const load = suite('config: loading files and flags');

load.after(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

load('loads env/dev.env into a typed object by default', () => {
  const root = repo({ 'env/dev.env': envText(DEV) });
  const config = loadConfig({ repoRoot: root });
  assert.is(config.environment, 'dev');
  assert.is(config.namespace, 'todo');
  assert.is(config.domain, 'todo.local');
  assert.is(config.replicas, 1);
  assert.is(config.imagePullPolicy, 'Never');
  assert.equal(config.images, { frontend: 'todo-frontend', backend: 'todo-backend', mcpServer: 'todo-mcp-server', postgres: 'todo-postgres', redis: 'todo-redis' });
  assert.is(config.imageTag, '0.1.0');
  assert.is(config.readyTimeoutSeconds, 300);
  for (const key of SETTING_KEYS) assert.is(config.sources[key], 'env/dev.env', key);
  assert.equal(config.dotenv, {});
});

load('--env prod reads env/prod.env, not env/dev.env', () => {
  const root = repo({ 'env/dev.env': envText(DEV), 'env/prod.env': envText({ ...PROD, REPLICAS: '3' }) });
  const config = loadConfig({ repoRoot: root, env: 'prod' });
  assert.is(config.environment, 'prod');
  assert.is(config.replicas, 3);
  assert.is(config.imagePullPolicy, 'IfNotPresent');
  assert.is(config.sources.REPLICAS, 'env/prod.env');
});

load('layering: env file < .env < flags, and each setting records its source', () => {
  const root = repo({
    'env/dev.env': envText(DEV),
    '.env': envText({ DOMAIN: 'todo.test', REPLICAS: '2', DATABASE_URL: 'postgresql://u:p@h/db' }),
  });
  const config = loadConfig({ repoRoot: root, flags: { REPLICAS: '4', NAMESPACE: 'todo-ci' } });
  assert.is(config.namespace, 'todo-ci');
  assert.is(config.sources.NAMESPACE, '--namespace');
  assert.is(config.domain, 'todo.test');
  assert.is(config.sources.DOMAIN, '.env');
  assert.is(config.replicas, 4, 'the flag beats both files');
  assert.is(config.sources.REPLICAS, '--replicas');
  assert.is(config.imageTag, '0.1.0');
  assert.is(config.sources.IMAGE_TAG, 'env/dev.env');
  assert.is(config.sources.READY_TIMEOUT, 'env/dev.env');
  assert.is(config.dotenv.DATABASE_URL, 'postgresql://u:p@h/db', '.env pairs are handed on for the secrets');
});

load('an empty key in .env (as copied from .env.example) does not blank the env file value', () => {
  const root = repo({ 'env/dev.env': envText(DEV), '.env': 'NAMESPACE=\nDOMAIN=\n' });
  const config = loadConfig({ repoRoot: root });
  assert.is(config.namespace, 'todo');
  assert.is(config.sources.NAMESPACE, 'env/dev.env');
});

load('CRLF settings files load; a malformed line in either file is refused with file, line and key', () => {
  const crlf = envText(DEV).replace(/\n/g, '\r\n');
  assert.is(loadConfig({ repoRoot: repo({ 'env/dev.env': crlf, '.env': 'DOMAIN=todo.test\r\n' }) }).domain, 'todo.test');
  const root = repo({ 'env/dev.env': `${envText(DEV)}REGISTRY\n`, '.env': 'OPENAI_API_KEY="sk-unclosed\nBETTER_AUTH_SECRET=a\0b\n' });
  const err = usageError(() => loadConfig({ repoRoot: root }));
  assert.is(err.exitCode, 2);
  assert.match(err.message, '3 line(s) of the settings files cannot be read; nothing was sent to a cluster');
  assert.match(err.message, `env/dev.env:${Object.keys(DEV).length + 1} syntax: the line is not KEY=VALUE`);
  assert.match(err.message, '.env:1 OPENAI_API_KEY: opens its value with a double quote that does not close');
  assert.match(err.message, '.env:2 BETTER_AUTH_SECRET: has a NUL character');
  assert.not.match(err.message, 'sk-unclosed');
});

load('--namespace kube-system is refused naming the flag, the key and the fix', () => {
  const root = repo({ 'env/dev.env': envText(DEV) });
  const err = usageError(() => loadConfig({ repoRoot: root, flags: { NAMESPACE: 'kube-system' } }));
  assert.is(err.exitCode, 2);
  assert.match(err.message, '--namespace NAMESPACE: "kube-system" is a system namespace');
  assert.match(err.message, 'Fix: give the stack a namespace of its own');
});

load('flag values are trimmed, and an empty flag is reported against the flag', () => {
  const root = repo({ 'env/dev.env': envText(DEV) });
  assert.is(loadConfig({ repoRoot: root, flags: { NAMESPACE: ' todo-x ' } }).namespace, 'todo-x');
  const err = usageError(() => loadConfig({ repoRoot: root, flags: { NAMESPACE: '' } }));
  assert.match(err.message, '--namespace NAMESPACE: is missing or empty');
});

load('every problem of every layer is reported together in one error naming file and key', () => {
  const root = repo({
    'env/dev.env': envText({ ...DEV, NAMESPACE: 'Todo_App', REPLICAS: '0', IMAGE_PULL_POLICY: 'Always', IMAGE_TAG: 'latest', READY_TIMEOUT: '5m', MCP_SERVER_IMAGE: '' }),
    '.env': envText({ DOMAIN: 'http://todo.local' }),
  });
  const err = usageError(() => loadConfig({ repoRoot: root, flags: { BACKEND_IMAGE: 'todo-backend:1.0.0' } }));
  assert.is(err.exitCode, 2);
  const lines = err.message.split('\n');
  assert.match(lines[0], 'The dev configuration has 8 problem(s); nothing was sent to a cluster');
  const expected = [
    'env/dev.env NAMESPACE:',
    'env/dev.env REPLICAS:',
    'env/dev.env IMAGE_PULL_POLICY:',
    'env/dev.env IMAGE_TAG:',
    'env/dev.env READY_TIMEOUT:',
    'env/dev.env MCP_SERVER_IMAGE: is missing or empty',
    '.env DOMAIN:',
    '--backend-image BACKEND_IMAGE:',
  ];
  for (const where of expected) assert.ok(lines.some((l) => l.startsWith(`  - ${where}`)), `no line for "${where}" in:\n${err.message}`);
  assert.is(lines.length, 1 + expected.length);
  for (const line of lines.slice(1)) assert.match(line, 'Fix: ');
  assert.not.match(err.message, /\n\s+at /, 'no stack trace in the message');
});

load('an unknown --env is refused, naming the environments there are', () => {
  const root = repo({ 'env/dev.env': envText(DEV) });
  const err = usageError(() => loadConfig({ repoRoot: root, env: 'staging' }));
  assert.is(err.exitCode, 2);
  assert.match(err.message, 'Unknown environment "staging" given to --env');
  assert.match(err.message, '--env dev or --env prod');
});

load('a missing env file is refused, naming it', () => {
  const root = repo({ 'env/dev.env': envText(DEV) });
  const err = usageError(() => loadConfig({ repoRoot: root, env: 'prod' }));
  assert.match(err.message, 'The settings file env/prod.env does not exist');
  assert.match(err.message, 'Fix:');
});

load('quoted values and comments in env files are read as dotenv does', () => {
  const root = repo({ 'env/dev.env': `# comment\n${envText({ ...DEV, DOMAIN: '"todo.local"', REPLICAS: '2 # two pods' })}` });
  const config = loadConfig({ repoRoot: root });
  assert.is(config.domain, 'todo.local');
  assert.is(config.replicas, 2);
});

load.run();
