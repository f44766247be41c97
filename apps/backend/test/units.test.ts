// Pure parts of the backend, imported from src: configuration, redaction, validation,
// the outage classifier and the chat tools' schemas.

import { suite } from '../../../test/support/suite.ts';
import * as assert from 'uvu/assert';
import pg from 'pg';
import { ConfigError, loadConfig, secretsOf } from '../src/config.ts';
import { isUnavailable, DatabaseUnavailable } from '../src/database.ts';
import { createLogger, redact } from '../src/shared/log.ts';
import { chatTools, toolNames } from '../src/tools.ts';
import { parseId, parseUserId } from '../src/validation.ts';
import { HttpError } from '../src/http.ts';

const units = suite('backend units');

units('configuration defaults and documented variables', () => {
  const config = loadConfig({});
  assert.is(config.port, 8000);
  assert.is(config.databaseUrl, undefined);
  assert.is(config.openaiApiKey, undefined);
  assert.is(config.daprHttpPort, undefined);
  assert.is(config.logLevel, 'info');
  const set = loadConfig({ PORT: '9000', DAPR_HTTP_PORT: '3500', OPENAI_API_KEY: ' sk-x ', LOG_LEVEL: 'DEBUG', OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' });
  assert.equal([set.port, set.daprHttpPort, set.openaiApiKey, set.logLevel, set.openaiBaseUrl], [9000, 3500, 'sk-x', 'debug', 'http://127.0.0.1:1/v1']);
  assert.is(loadConfig({ OPENAI_API_KEY: '   ' }).openaiApiKey, undefined, 'an empty secret means unset');
});

units('bad settings are refused with the variable and the fix', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT="eighty" is not a TCP port/.test((e as Error).message));
  assert.throws(() => loadConfig({ DAPR_HTTP_PORT: '0' }), /DAPR_HTTP_PORT="0"/);
  assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /use one of debug, info, warn, error/);
  assert.throws(() => loadConfig({ OPENAI_BASE_URL: 'not a url' }), /OPENAI_BASE_URL/);
});

units('secret values are redacted from log lines', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://app:s3cr%40t-pw@db:5432/todo', OPENAI_API_KEY: 'sk-live-abcdef' });
  const secrets = secretsOf(config);
  assert.ok(secrets.includes('s3cr@t-pw'), 'the decoded password');
  const lines: string[] = [];
  const log = createLogger('debug', secrets, (line) => lines.push(line));
  log.error('failed', { error: 'auth failed for postgres://app:s3cr%40t-pw@db:5432/todo with s3cr@t-pw and sk-live-abcdef' });
  assert.is(lines.length, 1);
  assert.not.match(lines[0]!, /s3cr|sk-live/);
  assert.is(JSON.parse(lines[0]!).msg, 'failed');
  assert.is(redact('x abcd y', ['abcd']), 'x [redacted] y');
  assert.is(redact('a b', ['a']), 'a b', 'values shorter than 4 characters are not secrets worth mangling logs for');
  const quiet = createLogger('warn', [], (line) => lines.push(line));
  quiet.info('not shown');
  assert.is(lines.length, 1, 'below the level, nothing is written');
});

units('outages are told apart from bad queries', () => {
  const dbError = (code: string) => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code });
  assert.ok(isUnavailable(dbError('57P01')), 'admin shutdown');
  assert.ok(isUnavailable(dbError('08006')), 'connection failure');
  assert.ok(isUnavailable(dbError('53300')), 'too many connections');
  assert.not.ok(isUnavailable(dbError('23505')), 'unique violation is a bug, not an outage');
  assert.ok(isUnavailable(dbError('42P01')), 'undefined table: the schema is gone until migrated again');
  assert.not.ok(isUnavailable(dbError('22P02')), 'invalid input is a bug');
  assert.ok(isUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })));
  assert.ok(isUnavailable(new Error('Connection terminated unexpectedly')));
  assert.ok(isUnavailable(new Error('timeout exceeded when trying to connect')));
  assert.ok(isUnavailable(new DatabaseUnavailable('DATABASE_URL is not set')));
  assert.not.ok(isUnavailable(new TypeError('x is not a function')));
});

units('ids and owners from the request', () => {
  assert.is(parseId('1'), 1);
  assert.is(parseId('2147483647'), 2147483647);
  for (const bad of ['0', '2147483648', '01a', '', '1e3', ' 1']) {
    assert.throws(() => parseId(bad), (e: unknown) => e instanceof HttpError && e.status === 400, bad);
  }
  assert.is(parseUserId('user_1-A'), 'user_1-A');
  assert.is(parseUserId(['first', 'second']), 'first');
  assert.throws(() => parseUserId(undefined), /missing X-User-Id/);
  assert.throws(() => parseUserId('x'.repeat(65)), /1-64 characters/);
});

units('chat tools: the five operations, strict JSON schemas', () => {
  assert.equal(toolNames, ['add_task', 'list_tasks', 'complete_task', 'update_task', 'delete_task']);
  for (const tool of chatTools) {
    const params = tool.function.parameters as Record<string, unknown>;
    assert.is(params.type, 'object', tool.function.name);
    assert.is(params.additionalProperties, false, tool.function.name);
    assert.not.ok('$schema' in params);
    assert.ok(tool.function.description);
  }
  const add = chatTools.find((t) => t.function.name === 'add_task')!.function.parameters as {
    properties: { title: { maxLength: number; minLength: number } };
    required: string[];
  };
  assert.equal([add.required, add.properties.title.minLength, add.properties.title.maxLength], [['title'], 1, 200]);
});

units.run();
