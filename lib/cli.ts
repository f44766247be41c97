// What every script shares: argument parsing with --help, redaction installed before anything
// prints, and one place that turns errors into a message and an exit code (0 ok, 1 failed,
// 2 bad input or usage). Stack traces only with --debug, and redacted like everything else.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError, exitCodeOf } from './errors.ts';
import { parseEnvFile } from './env-file.ts';
import { installRedaction, registerSecretValues } from './output.ts';
import { REPO_ROOT } from './repo-root.ts';
import { SECRET_SOURCES } from './secrets.ts';

// Scripts take the repository root from here, with main().
export { REPO_ROOT };

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Command<V> {
  name: string;
  usage: string;
  options: Options;
  run: (values: V, positionals: string[]) => Promise<number | void>;
}

/** Options most scripts take. */
export const COMMON_OPTIONS = {
  env: { type: 'string', default: 'dev' },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} satisfies Options;

/**
 * Registers the secret values the environment and .env hold before anything else runs, so even
 * an early error cannot print one.
 */
export function registerKnownSecrets(repoRoot = REPO_ROOT): void {
  const variables = Object.values(SECRET_SOURCES) as string[];
  const fromEnv = variables.map((v) => process.env[v] ?? '');
  const dotenvPath = path.join(repoRoot, '.env');
  let fromFile: string[] = [];
  if (existsSync(dotenvPath)) {
    try {
      // Every readable line counts, even when others are malformed: the config loader reports
      // those, and its message must not be the first thing to print a secret of a good line.
      const parsed = parseEnvFile(readFileSync(dotenvPath, 'utf8'), '.env').values;
      fromFile = variables.map((v) => parsed[v] ?? '');
    } catch {
      // unreadable .env: the config loader reports it
    }
  }
  registerSecretValues([...fromEnv, ...fromFile].map((v) => v.trim()).filter((v) => v.length > 0));
}

export function errorText(err: unknown, debug: boolean): string {
  if (debug && err instanceof Error && err.stack) {
    const causes: string[] = [];
    let cause = (err as { cause?: unknown }).cause;
    while (cause instanceof Error) {
      causes.push(`Caused by: ${cause.stack ?? cause.message}`);
      cause = (cause as { cause?: unknown }).cause;
    }
    return [err.stack, ...causes].join('\n');
  }
  return err instanceof Error ? err.message : String(err);
}

/** Runs a command as a script: parse, help, run, exit. */
export async function main<V>(command: Command<V>, argv = process.argv.slice(2)): Promise<never> {
  installRedaction();
  registerKnownSecrets();
  const debug = argv.includes('--debug');
  // Node prints an uncaught error itself, straight to the file descriptor and past the
  // redaction; a stray rejection (a watch callback, say) is reported here instead.
  const fatal = (err: unknown) => {
    process.stderr.write(`\n✖ ${errorText(err, debug)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  let code: number;
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(`${(err as Error).message} Fix: see \`npm run ${command.name} -- --help\` for the options.`);
    }
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(`${command.usage}\n`);
      code = 0;
    } else {
      code = (await command.run(parsed.values as V, parsed.positionals)) ?? 0;
    }
  } catch (err) {
    process.stderr.write(`\n✖ ${errorText(err, debug)}\n`);
    if (!debug && exitCodeOf(err) === 1) process.stderr.write('  (run with --debug for the full trace)\n');
    code = exitCodeOf(err);
  }
  // Let buffered output drain before exiting.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
