// One JSON object per line on stdout, the shape log collectors expect. Every string
// that goes out passes through redaction of the known secret values, so a library error
// message that happens to quote a connection string cannot leak it.

export type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type Fields = Record<string, unknown>;

export interface Logger {
  /** The configured level; errorFields(err, log.level) adds stacks only at debug. */
  readonly level: Level;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** The message of an error, without its stack (stacks only at debug level). */
export function errorFields(err: unknown, level: Level): Fields {
  if (!(err instanceof Error)) return { error: String(err) };
  const fields: Fields = { error: err.message };
  // fetch wraps the socket error: "fetch failed", cause ECONNREFUSED.
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) fields.cause = cause.message;
  const code = (err as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') fields.code = code;
  if (level === 'debug' && err.stack) fields.stack = err.stack;
  return fields;
}

export function createLogger(
  level: Level,
  secrets: readonly string[] = [],
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Logger {
  const emit = (at: Level, msg: string, fields?: Fields) => {
    if (ORDER[at] < ORDER[level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields });
    write(redact(line, secrets));
  };
  return {
    level,
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  };
}
