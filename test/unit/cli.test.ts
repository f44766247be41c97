// What the scripts share: error text with and without --debug, exit codes, problem lists, the
// setting flags, the secret registry behind the output redaction, durations, and which objects
// `down` may delete. The scripts themselves run end to end in core-up-runs.test.ts.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { errorText, registerKnownSecrets } from '../../lib/cli.ts';
import { UsageError, DeployError, exitCodeOf, formatProblems } from '../../lib/errors.ts';
import { SETTING_OPTIONS, DEPLOY_OPTIONS, settingFlags, checkCluster } from '../../lib/flags.ts';
import { SETTING_FLAGS, SETTING_KEYS } from '../../lib/config.ts';
import { redact, registerSecretValues } from '../../lib/output.ts';
import { formatDuration, timingSummary } from '../../lib/view/durations.ts';
import { isManaged } from '../../lib/manifests.ts';

// ---------------------------------------------------------------------------------------------
const errors = suite('cli: errors and exit codes');

errors('without --debug only the message is printed', () => {
  const err = new DeployError('The API server rejected Deployment/todo/backend.', { cause: new Error('HTTP-Code: 422') });
  assert.is(errorText(err, false), 'The API server rejected Deployment/todo/backend.');
  assert.is(errorText('a thrown string', false), 'a thrown string');
});

errors('with --debug the stack and every cause follow', () => {
  const root = new Error('connect ECONNREFUSED 127.0.0.1:6443');
  const middle = new Error('request failed', { cause: root });
  const err = new DeployError('Cannot reach the API server.', { cause: middle });
  const text = errorText(err, true);
  assert.match(text, /^DeployError: Cannot reach the API server\.\n\s+at /);
  assert.match(text, '\nCaused by: Error: request failed\n');
  assert.match(text, '\nCaused by: Error: connect ECONNREFUSED 127.0.0.1:6443\n');
  assert.ok(text.indexOf('request failed') < text.indexOf('ECONNREFUSED'), 'causes in order');
  assert.is(errorText('a thrown string', true), 'a thrown string');
});

errors('exit codes: 2 for bad input, 1 for a failed deployment or anything unexpected', () => {
  assert.is(exitCodeOf(new UsageError('bad')), 2);
  assert.is(exitCodeOf(new DeployError('failed')), 1);
  assert.is(exitCodeOf(new Error('surprise')), 1);
  assert.is(exitCodeOf('thrown string'), 1);
  assert.is(new UsageError('x').name, 'UsageError');
});

errors('a problem list names file (and line when known), key, message and fix', () => {
  const text = formatProblems('Heading:', [
    { file: 'env/dev.env', key: 'REPLICAS', message: 'is wrong.', fix: 'set it.' },
    { file: 'manifests/a.yaml', line: 7, key: '${X}', message: 'is unknown.', fix: 'remove it.' },
  ]);
  assert.is(text, 'Heading:\n  - env/dev.env REPLICAS: is wrong. Fix: set it.\n  - manifests/a.yaml:7 ${X}: is unknown. Fix: remove it.');
});

errors.run();

// ---------------------------------------------------------------------------------------------
const flags = suite('cli: setting flags');

flags('one string option per setting, named as the configuration says', () => {
  assert.equal(Object.keys(SETTING_OPTIONS).sort(), SETTING_KEYS.map((k) => SETTING_FLAGS[k].slice(2)).sort());
  for (const option of Object.values(SETTING_OPTIONS)) assert.is(option.type, 'string');
  assert.is(SETTING_FLAGS.READY_TIMEOUT, '--timeout');
  assert.is(DEPLOY_OPTIONS.env.default, 'dev');
  assert.is(DEPLOY_OPTIONS.cluster.type, 'string');
  assert.is(DEPLOY_OPTIONS.debug.type, 'boolean');
});

flags('settingFlags keeps only the settings given, keyed by setting', () => {
  const parsed = { env: 'prod', debug: true, replicas: '3', 'image-tag': '1.2.3', timeout: '60', 'mcp-server-image': 'r/mcp', namespace: undefined };
  assert.equal(settingFlags(parsed), { REPLICAS: '3', IMAGE_TAG: '1.2.3', READY_TIMEOUT: '60', MCP_SERVER_IMAGE: 'r/mcp' });
  assert.equal(settingFlags({}), {});
});

flags('--cluster current is accepted; an unknown provider is refused as a usage error naming it', () => {
  checkCluster('current');
  let err: unknown;
  try {
    checkCluster('nomad');
  } catch (e) {
    err = e;
  }
  assert.instance(err, UsageError);
  assert.match((err as Error).message, 'Unknown cluster provider "nomad" given to --cluster');
});

flags.run();

// ---------------------------------------------------------------------------------------------
const secrets = suite('cli: secrets registered for redaction');
const roots: string[] = [];

secrets.after(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

secrets('registered values are redacted from then on, in every form', () => {
  const value = 'cli-test-value-registered-7q7q7q';
  assert.is(redact(`x ${value} y`), `x ${value} y`, 'not before registration');
  registerSecretValues([value, '']);
  assert.is(redact(`x ${value} y`), 'x [redacted] y');
  assert.is(redact(Buffer.from(value).toString('base64')), '[redacted]');
});

secrets('the secret keys of .env are registered before anything runs', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-cli-'));
  roots.push(root);
  const key = 'sk-from-dotenv-cli-test-8r8r8r';
  const auth = 'auth-from-dotenv-cli-test-0123456789abcdef';
  writeFileSync(path.join(root, '.env'), `OPENAI_API_KEY=${key}\nBETTER_AUTH_SECRET=" ${auth} "\nNAMESPACE=not-a-secret-namespace\n`);
  registerKnownSecrets(root);
  assert.is(redact(`${key} ${auth}`), '[redacted] [redacted]');
  assert.is(redact('not-a-secret-namespace'), 'not-a-secret-namespace', 'settings are not secrets');
});

secrets('an unreadable .env does not stop the registration (the loader reports it later)', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'todo-deploy-cli-'));
  roots.push(root);
  mkdirSync(path.join(root, '.env'));
  registerKnownSecrets(root);
});

secrets.run();

// ---------------------------------------------------------------------------------------------
const timing = suite('cli: durations');

timing('durations under a second in ms, above in seconds with one decimal', () => {
  assert.is(formatDuration(0), '0ms');
  assert.is(formatDuration(999), '999ms');
  assert.is(formatDuration(1000), '1.0s');
  assert.is(formatDuration(83_456), '83.5s');
});

timing('the summary has a line per stage and the total, aligned', () => {
  const text = timingSummary('Stage durations:', [{ title: '1. Namespace', ms: 120 }, { title: '9. Deployments', ms: 42_000 }], 45_300);
  assert.is(text, ['Stage durations:', '  1. Namespace      120ms', '  9. Deployments    42.0s', '  total             45.3s'].join('\n'));
});

timing.run();

// ---------------------------------------------------------------------------------------------
const managed = suite('cli: what down may delete');

managed('only objects carrying both managed-by and part-of labels', () => {
  const obj = (labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', labels } });
  assert.is(isManaged(obj({ 'app.kubernetes.io/managed-by': 'todo-deploy', 'app.kubernetes.io/part-of': 'todo', extra: 'x' })), true);
  assert.is(isManaged(obj({ 'app.kubernetes.io/managed-by': 'todo-deploy' })), false);
  assert.is(isManaged(obj({ 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/part-of': 'todo' })), false);
  assert.is(isManaged(obj()), false);
});

managed.run();
