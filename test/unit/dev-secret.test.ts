// The newcomer's missing BETTER_AUTH_SECRET: generated into .env (created from
// env/.env.example when absent, mode 0600), announced without its value, kept on later runs.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'dotenv';
import { ensureDevAuthSecret, withEnvValue } from '../../lib/dev-secret.ts';
import { redact } from '../../lib/output.ts';
import { REPO_ROOT } from '../../lib/cli.ts';

const test = suite();

function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dev-secret-'));
  mkdirSync(path.join(dir, 'env'));
  writeFileSync(path.join(dir, 'env', '.env.example'), readFileSync(path.join(REPO_ROOT, 'env', '.env.example')));
  return dir;
}

test('no .env: created from env/.env.example with mode 0600, the secret filled in place, its value never in the message', () => {
  const dir = scratch();
  try {
    const said = ensureDevAuthSecret(dir, {});
    const file = path.join(dir, '.env');
    const text = readFileSync(file, 'utf8');
    const value = parse(text).BETTER_AUTH_SECRET!;
    assert.match(value, /^[0-9a-f]{64}$/);
    assert.is(statSync(file).mode & 0o777, 0o600);
    // The example's comments are kept and the key is not repeated.
    assert.match(text, '# Generate one with: openssl rand -hex 32\nBETTER_AUTH_SECRET=');
    assert.is(text.match(/BETTER_AUTH_SECRET=/g)!.length, 1);
    assert.ok(said);
    assert.match(said!, 'Generated BETTER_AUTH_SECRET');
    assert.not.match(said!, value);
    // Registered for redaction before it was written.
    assert.is(redact(`x ${value} y`), 'x [redacted] y');
    // A second run keeps it.
    assert.is(ensureDevAuthSecret(dir, {}), undefined);
    assert.is(parse(readFileSync(file, 'utf8')).BETTER_AUTH_SECRET, value);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a secret in the environment or in .env is left alone; other .env lines are kept', () => {
  const dir = scratch();
  try {
    assert.is(ensureDevAuthSecret(dir, { BETTER_AUTH_SECRET: 'x'.repeat(40) }), undefined);
    assert.not.ok(statSafe(path.join(dir, '.env')));
    writeFileSync(path.join(dir, '.env'), 'OPENAI_API_KEY=sk-mine\n');
    assert.ok(ensureDevAuthSecret(dir, {}));
    const parsed = parse(readFileSync(path.join(dir, '.env'), 'utf8'));
    assert.is(parsed.OPENAI_API_KEY, 'sk-mine');
    assert.match(parsed.BETTER_AUTH_SECRET!, /^[0-9a-f]{64}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('withEnvValue: fills an empty line (quoted empty too), else appends', () => {
  assert.is(withEnvValue('A=1\nK=\nB=2\n', 'K', 'v'), 'A=1\nK=v\nB=2\n');
  assert.is(withEnvValue('K=""\n', 'K', 'v'), 'K=v\n');
  assert.is(withEnvValue('A=1', 'K', 'v'), 'A=1\nK=v\n');
  assert.is(withEnvValue('', 'K', 'v'), 'K=v\n');
});

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

test.run();
