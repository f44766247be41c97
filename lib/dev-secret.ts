// A newcomer's first `up` in dev must not stop on a secret nobody has yet: when no
// BETTER_AUTH_SECRET is set (environment or .env), one is generated, written to .env (made
// from env/.env.example when absent, readable by the owner only) and announced without its
// value. It is kept in .env so that every later `up` signs sessions with the same secret
// (and derives the same embedded-database password), changing nothing in the cluster.
// Prod never gets here: its secrets are the user's to provide.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { registerSecretValues } from './output.ts';

export const GENERATED_KEY = 'BETTER_AUTH_SECRET';
/** 32 random bytes, hex: 64 characters, twice the data model's minimum length. */
const GENERATED_BYTES = 32;

/**
 * The .env text with `key=value` set: an empty `key=` line is filled in place (so the comments
 * of .env.example stay next to it), otherwise the line is appended. Pure.
 */
export function withEnvValue(text: string, key: string, value: string): string {
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=\\s*(""|'')?\\s*$`).test(l));
  if (at >= 0) {
    lines[at] = `${key}=${value}`;
    return lines.join('\n');
  }
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  return `${body}${key}=${value}\n`;
}

/**
 * Generates BETTER_AUTH_SECRET into .env when neither the environment nor .env sets it.
 * Returns the sentence to show, or undefined when nothing was needed.
 */
export function ensureDevAuthSecret(repoRoot: string, processEnv: Record<string, string | undefined>): string | undefined {
  if ((processEnv[GENERATED_KEY] ?? '').trim() !== '') return undefined;
  const file = path.join(repoRoot, '.env');
  const exists = existsSync(file);
  const text = exists ? readFileSync(file, 'utf8') : readFileSync(path.join(repoRoot, 'env', '.env.example'), 'utf8');
  if (exists && (parseDotenv(text)[GENERATED_KEY] ?? '').trim() !== '') return undefined;
  const value = randomBytes(GENERATED_BYTES).toString('hex');
  // Registered before it is written anywhere, so not even an error about the write can show it.
  registerSecretValues([value]);
  writeFileSync(file, withEnvValue(text, GENERATED_KEY, value), { mode: 0o600 });
  if (!exists) chmodSync(file, 0o600); // the mode of a new file is also subject to the umask
  return `Generated ${GENERATED_KEY} (${GENERATED_BYTES} random bytes) and wrote it to ${exists ? '.env' : '.env (created from env/.env.example, mode 0600)'}; its value is not shown. Keep .env: later runs reuse it.`;
}
