// KEY=VALUE files (env/<environment>.env and .env), read strictly. dotenv on its own skips a
// line it cannot read, turns a lone carriage return into a line break and lets a quote run on
// over the following lines, so a mistake there silently drops or corrupts a setting or a secret.
// Here the file is read line by line: each line must be blank, a comment or KEY=VALUE, and each
// value (unquoted as dotenv does it) must fit on its line. Problems name the file, the line and
// the key, never the value: these files hold secrets.
import { parse as parseDotenv } from 'dotenv';
import type { Problem } from './errors.ts';

export interface EnvFile {
  values: Record<string, string>;
  problems: Problem[];
}

// The key and the raw value of a KEY=VALUE line; "export " is allowed as in a shell.
const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)$/s; // s: a lone \r is part of the value
const QUOTES = ['"', "'", '`'];

/** Where a value's opening quote closes, as dotenv reads it (a backslash escapes the quote); -1 when it does not. */
function closingQuote(raw: string, quote: string): number {
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === quote) return i;
  }
  return -1;
}

function quoteName(quote: string): string {
  return quote === '"' ? 'double quote' : quote === "'" ? 'single quote' : 'backtick';
}

/**
 * Reads the text of a KEY=VALUE file. `file` only labels the problems. CRLF line ends are line
 * ends; a leading byte-order mark is ignored. Never throws: the caller decides what a problem means.
 */
export function parseEnvFile(text: string, file: string): EnvFile {
  const values: Record<string, string> = {};
  const problems: Problem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((line, index) => {
    const at = { file, line: index + 1 };
    if (/^\s*(#|$)/.test(line)) return;
    const m = ASSIGNMENT.exec(line);
    if (!m) {
      // The line itself is not shown: it may be a secret pasted without its key.
      problems.push({ ...at, key: 'syntax', message: 'the line is not KEY=VALUE, a comment (#) or blank.', fix: 'write it as NAME=value (letters, digits and _ in NAME), or start it with # to keep it as a comment.' });
      return;
    }
    const key = m[1]!;
    const raw = m[2]!.trimStart();
    const bad = (message: string, fix: string) => problems.push({ ...at, key, message, fix });
    if (raw.includes('\0')) return bad('has a NUL character in its value.', `retype the value of ${key}; a NUL usually means the file was saved as UTF-16 or a binary was pasted, so save it as UTF-8 text.`);
    if (raw.includes('\r')) return bad('has a carriage return inside its value.', `keep the value of ${key} on one line (a lone carriage return is an old Mac line end or a paste artefact; remove it).`);
    const quote = QUOTES.find((q) => raw.startsWith(q));
    if (quote && closingQuote(raw, quote) < 0) {
      return bad(`opens its value with a ${quoteName(quote)} that does not close on the same line.`, `close the quote (${key}=${quote}...${quote}) or remove it; values spanning several lines are not accepted.`);
    }
    const value = parseDotenv(`${key}=${raw}`)[key] ?? '';
    if (/[\r\n]/.test(value)) return bad('has a value with a line break in it (an escaped \\n or \\r inside double quotes).', `give ${key} a value on one line, or use single quotes if the backslash is meant literally.`);
    values[key] = value;
  });
  return { values, problems };
}
