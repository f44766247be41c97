// todo-secrets: which values are required where, the embedded dev PostgreSQL, the Secret object,
// and the redactor that keeps every form of a value out of output. The expected forms are
// computed here independently of lib/output so a gap in secretForms shows up as a failure.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { usageError } from '../support/assert-errors.ts';
import {
  buildSecrets,
  secretObject,
  embeddedPostgresPassword,
  SECRET_KEYS,
  SECRET_NAME,
  type Secrets,
} from '../../lib/secrets.ts';
import { createRedactor, secretForms, REDACTED } from '../../lib/output.ts';

const DATABASE_URL = 'postgresql://todo_app:Zq9%40Kx%2Fpw-77ab@db.example.internal:5432/todo';
const OPENAI_API_KEY = 'sk-test-d1st1nct1ve-openai-9f8e7d6c';
const AUTH = 'auth-secret-for-unit-tests-0123456789abcdef';

const devConfig = (dotenv: Record<string, string> = {}) => ({ environment: 'dev' as const, namespace: 'todo', dotenv });
const prodConfig = (dotenv: Record<string, string> = {}) => ({ environment: 'prod' as const, namespace: 'todo', dotenv });


const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

// ---------------------------------------------------------------------------------------------
const build = suite('secrets: building');

build('all three from the process environment become the Secret keys', () => {
  const s = buildSecrets(prodConfig(), { DATABASE_URL, OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(s.embeddedPostgres, false);
  assert.equal(s.values, { 'database-url': DATABASE_URL, 'openai-api-key': OPENAI_API_KEY, 'better-auth-secret': AUTH, 'postgres-password': '' });
});

build('a missing key is named with the Secret key it becomes and a pointer to env/.env.example', () => {
  const err = usageError(() => buildSecrets(prodConfig(), { DATABASE_URL, BETTER_AUTH_SECRET: AUTH }));
  assert.is(err.exitCode, 2);
  assert.match(err.message, '.env OPENAI_API_KEY: is missing or empty; it becomes todo-secrets/openai-api-key');
  assert.match(err.message, 'env/.env.example');
  assert.match(err.message, 'nothing was sent to a cluster');
  assert.not.match(err.message, 'DATABASE_URL');
  assert.not.match(err.message, 'BETTER_AUTH_SECRET');
});

build('every missing key is reported at once; empty and blank values count as missing', () => {
  const err = usageError(() => buildSecrets(prodConfig({ OPENAI_API_KEY: '' }), { DATABASE_URL: '   ', BETTER_AUTH_SECRET: '' }));
  assert.match(err.message, /^3 secret\(s\) are not usable/);
  for (const v of ['DATABASE_URL', 'OPENAI_API_KEY', 'BETTER_AUTH_SECRET']) assert.match(err.message, `.env ${v}: is missing or empty`);
  assert.match(err.message, 'prod always uses an external database');
});

build('dev without DATABASE_URL runs the embedded PostgreSQL with a derived, stable password', () => {
  const s = buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(s.embeddedPostgres, true);
  const pw = s.values['postgres-password'];
  assert.match(pw, /^[0-9a-f]{32}$/);
  assert.is(s.values['database-url'], `postgresql://todo:${pw}@postgres-svc.todo.svc.cluster.local:5432/todo`);
  assert.not.match(pw, AUTH.slice(0, 8), 'the password does not reveal the auth secret');
  // Stable: a second run renders the same Secret, so re-applying changes nothing.
  assert.is(buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH }).values['postgres-password'], pw);
  assert.is(embeddedPostgresPassword(AUTH), pw);
  // Derived from the auth secret: another secret gives another password.
  assert.is.not(buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: `${AUTH}x` }).values['postgres-password'], pw);
  // The namespace is part of the in-cluster address.
  const other = buildSecrets({ ...devConfig(), namespace: 'todo-ci' }, { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  assert.match(other.values['database-url'], '@postgres-svc.todo-ci.svc.cluster.local:5432/');
});

build('dev with DATABASE_URL uses it and no embedded PostgreSQL', () => {
  const s = buildSecrets(devConfig(), { DATABASE_URL, OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  assert.is(s.embeddedPostgres, false);
  assert.is(s.values['database-url'], DATABASE_URL);
  assert.is(s.values['postgres-password'], '');
});

build('prod requires DATABASE_URL', () => {
  const err = usageError(() => buildSecrets(prodConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH }));
  assert.match(err.message, 'DATABASE_URL: is missing or empty; it becomes todo-secrets/database-url. prod always uses an external database.');
  assert.match(err.message, /^1 secret\(s\)/);
});

build('the process environment beats .env, and .env fills what the environment lacks or leaves empty', () => {
  const dotenv = { DATABASE_URL: 'postgresql://from:dotenv@h/db', OPENAI_API_KEY: 'sk-from-dotenv', BETTER_AUTH_SECRET: `${AUTH}-dotenv` };
  const s = buildSecrets(prodConfig(dotenv), { DATABASE_URL, OPENAI_API_KEY: '', BETTER_AUTH_SECRET: undefined });
  assert.is(s.values['database-url'], DATABASE_URL);
  assert.is(s.values['openai-api-key'], 'sk-from-dotenv');
  assert.is(s.values['better-auth-secret'], `${AUTH}-dotenv`);
});

build('values are trimmed', () => {
  const s = buildSecrets(prodConfig(), { DATABASE_URL: ` ${DATABASE_URL}\n`, OPENAI_API_KEY: `\t${OPENAI_API_KEY}`, BETTER_AUTH_SECRET: `${AUTH} ` });
  assert.is(s.values['database-url'], DATABASE_URL);
  assert.is(s.values['openai-api-key'], OPENAI_API_KEY);
  assert.is(s.values['better-auth-secret'], AUTH);
});

build('a BETTER_AUTH_SECRET shorter than 32 characters is refused without printing it', () => {
  const short = 'short-but-distinctive-secret-31';
  assert.is(short.length, 31);
  const err = usageError(() => buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: short }));
  assert.match(err.message, 'BETTER_AUTH_SECRET: is shorter than 32 characters');
  assert.match(err.message, 'openssl rand -hex 32');
  assert.not.match(err.message, short);
  const exactly32 = 'x'.repeat(32);
  assert.is(buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: exactly32 }).values['better-auth-secret'], exactly32);
});

build('error messages never carry a given value', () => {
  const err = usageError(() => buildSecrets(prodConfig({ OPENAI_API_KEY }), { BETTER_AUTH_SECRET: AUTH }));
  for (const value of [OPENAI_API_KEY, AUTH]) assert.not.match(err.message, value);
});

build('dev without OPENAI_API_KEY: allowed, chat off, and the Secret carries no openai-api-key; prod still requires it', () => {
  const s = buildSecrets(devConfig(), { BETTER_AUTH_SECRET: AUTH });
  assert.is(s.chat, false);
  assert.is(s.values['openai-api-key'], '');
  assert.not.ok('openai-api-key' in secretObject('todo', s).data);
  assert.is(buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH }).chat, true);
  const err = usageError(() => buildSecrets(prodConfig(), { DATABASE_URL, BETTER_AUTH_SECRET: AUTH }));
  assert.match(err.message, 'prod always serves the chat endpoint');
});

build.run();

// ---------------------------------------------------------------------------------------------
const object = suite('secrets: the Secret object');

object('todo-secrets is an Opaque Secret with base64 data under lowercase-hyphen keys', () => {
  const secrets: Secrets = buildSecrets(prodConfig(), { DATABASE_URL, OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  const o = secretObject('todo-ci', secrets);
  assert.is(o.apiVersion, 'v1');
  assert.is(o.kind, 'Secret');
  assert.is(o.metadata.name, SECRET_NAME);
  assert.is(o.metadata.name, 'todo-secrets');
  assert.is(o.metadata.namespace, 'todo-ci');
  assert.is(o.type, 'Opaque');
  assert.is(o.stringData, undefined, 'data, not stringData, keeps re-applies a no-op');
  assert.equal(Object.keys(o.data).sort(), ['better-auth-secret', 'database-url', 'openai-api-key']);
  for (const key of Object.keys(o.data)) assert.match(key, /^[a-z]+(-[a-z]+)*$/);
  assert.is(o.data['database-url'], b64(DATABASE_URL));
  assert.is(Buffer.from(o.data['openai-api-key'], 'base64').toString('utf8'), OPENAI_API_KEY);
  assert.is(Buffer.from(o.data['better-auth-secret'], 'base64').toString('utf8'), AUTH);
  assert.not.ok(JSON.stringify(o).includes(OPENAI_API_KEY), 'no raw value in the object');
});

object('the embedded database adds postgres-password', () => {
  const secrets = buildSecrets(devConfig(), { OPENAI_API_KEY, BETTER_AUTH_SECRET: AUTH });
  const o = secretObject('todo', secrets);
  assert.equal(Object.keys(o.data).sort(), [...SECRET_KEYS].sort());
  assert.is(Buffer.from(o.data['postgres-password'], 'base64').toString('utf8'), secrets.values['postgres-password']);
});

object.run();

// ---------------------------------------------------------------------------------------------
const redaction = suite('secrets: redaction');

redaction('the raw value, base64, URL-encoded and JSON-escaped forms are all replaced', () => {
  const value = 'p@ss "word"/with+chars\\and=more';
  const redact = createRedactor([value]);
  const once = JSON.stringify(value).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1); // a JSON body quoted inside an error message
  const forms = [value, b64(value), encodeURIComponent(value), once, twice];
  for (const form of forms) {
    const text = `before ${form} after`;
    assert.is(redact(text), `before ${REDACTED} after`, `form ${form}`);
  }
  assert.is(redact(JSON.stringify({ data: { key: b64(value) } })), JSON.stringify({ data: { key: REDACTED } }));
  const status = JSON.stringify({ message: `invalid value ${value}` });
  assert.is(redact(`Body: ${JSON.stringify(status)}`), `Body: ${JSON.stringify(JSON.stringify({ message: `invalid value ${REDACTED}` }))}`);
});

redaction('the password inside a connection string is redacted on its own, encoded and decoded', () => {
  const redact = createRedactor([DATABASE_URL]);
  assert.is(redact(`password authentication failed: Zq9%40Kx%2Fpw-77ab`), `password authentication failed: ${REDACTED}`);
  assert.is(redact(`password Zq9@Kx/pw-77ab was refused`), `password ${REDACTED} was refused`);
  assert.is(redact(`connecting to ${DATABASE_URL}`), `connecting to ${REDACTED}`);
  assert.is(redact(`url=${encodeURIComponent(DATABASE_URL)}`), `url=${REDACTED}`);
  assert.ok(secretForms(DATABASE_URL).includes('Zq9@Kx/pw-77ab'));
});

redaction('every occurrence is replaced, and longer values first so no fragment survives', () => {
  const short = 'abcd1234';
  const long = 'abcd1234-and-more';
  const redact = createRedactor([short, long]);
  assert.is(redact(`${long} ${short} ${long}`), `${REDACTED} ${REDACTED} ${REDACTED}`);
  assert.is(createRedactor([long, short])(`x${long}x`), `x${REDACTED}x`);
});

redaction('several values at once; text without them is unchanged', () => {
  const redact = createRedactor([OPENAI_API_KEY, AUTH]);
  assert.is(redact(`${OPENAI_API_KEY}|${b64(AUTH)}`), `${REDACTED}|${REDACTED}`);
  assert.is(redact('nothing secret here'), 'nothing secret here');
  assert.is(createRedactor([])('anything at all'), 'anything at all');
});

redaction('values too short to mean anything are not redacted (they would hide ordinary words)', () => {
  const redact = createRedactor(['abc']);
  assert.is(redact('abc abcdef'), 'abc abcdef');
  assert.equal(secretForms('abc').filter((f) => f === 'abc'), []);
});

redaction.run();
