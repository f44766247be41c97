// KEY=VALUE files read strictly (lib/env-file.ts): CRLF is a line end, and every line that dotenv
// would skip or misread is a problem naming file, line and key, never the value.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { parseEnvFile } from '../../lib/env-file.ts';

const test = suite('env files: strict KEY=VALUE');

const SECRET = 'sk-env-file-test-value-9f8e7d';

test('LF and CRLF files give the same pairs, quotes and comments as dotenv reads them', () => {
  const lines = ['# settings', 'NAMESPACE=todo', '', 'export DOMAIN=todo.local', `OPENAI_API_KEY="${SECRET}"`, "PLAIN='a#b'", 'WITH_COMMENT=value # note', 'EMPTY=', '  SPACED = x  '];
  const expected = { NAMESPACE: 'todo', DOMAIN: 'todo.local', OPENAI_API_KEY: SECRET, PLAIN: 'a#b', WITH_COMMENT: 'value', EMPTY: '', SPACED: 'x' };
  for (const eol of ['\n', '\r\n']) {
    const r = parseEnvFile(lines.join(eol) + eol, '.env');
    assert.equal(r.problems, [], JSON.stringify(eol));
    assert.equal(r.values, expected, JSON.stringify(eol));
  }
});

test('a byte-order mark and a missing final line end are accepted', () => {
  assert.equal(parseEnvFile('\uFEFFNAMESPACE=todo\r\nDOMAIN=todo.local', 'env/dev.env'), { values: { NAMESPACE: 'todo', DOMAIN: 'todo.local' }, problems: [] });
});

test('a malformed line names its line number and does not show the line', () => {
  const r = parseEnvFile(`NAMESPACE=todo\n${SECRET}\nDOMAIN todo.local\n`, '.env');
  assert.equal(r.problems.map((p) => [p.file, p.line, p.key]), [['.env', 2, 'syntax'], ['.env', 3, 'syntax']]);
  assert.match(r.problems[0]!.message, 'not KEY=VALUE');
  assert.match(r.problems[0]!.fix, 'NAME=value');
  assert.not.ok(JSON.stringify(r.problems).includes(SECRET), 'the line is not echoed');
  assert.equal(r.values, { NAMESPACE: 'todo' }, 'the readable lines are still read');
});

test('a value with a carriage return, a NUL, an escaped line break or an unclosed quote is refused with its key and line', () => {
  const text = [
    'OK=1',
    `OPENAI_API_KEY=${SECRET}\rtail`,
    `BETTER_AUTH_SECRET=${SECRET}\0`,
    `DATABASE_URL="postgresql://u:${SECRET}@h/db`,
    `QUOTED='${SECRET}`,
    'MULTI="first\\nsecond"',
    'BACKTICK=`open',
    '',
  ].join('\r\n');
  const r = parseEnvFile(text, '.env');
  assert.equal(r.problems.map((p) => `${p.line} ${p.key}`), ['2 OPENAI_API_KEY', '3 BETTER_AUTH_SECRET', '4 DATABASE_URL', '5 QUOTED', '6 MULTI', '7 BACKTICK']);
  const [cr, nul, dq, sq, multi, bt] = r.problems.map((p) => p.message);
  assert.match(cr!, 'carriage return');
  assert.match(nul!, 'NUL');
  assert.match(dq!, 'double quote that does not close');
  assert.match(sq!, 'single quote that does not close');
  assert.match(multi!, 'line break');
  assert.match(bt!, 'backtick that does not close');
  for (const p of r.problems) assert.ok(p.fix.includes(p.key), `the fix names ${p.key}: ${p.fix}`);
  assert.not.ok(JSON.stringify(r.problems).includes(SECRET), 'no value is echoed');
  assert.equal(r.values, { OK: '1' });
});

test('an escaped quote inside quotes, and a literal \\n in single quotes, are fine', () => {
  const r = parseEnvFile('A="say \\"hi\\""\nB=\'c:\\new\'\n', '.env');
  assert.equal(r.problems, []);
  assert.is(r.values.B, 'c:\\new');
});

test.run();
