// Everything the tool prints goes through one redactor: stdout and stderr are wrapped once at
// start-up, so task titles, listr2 output, errors and --debug traces cannot leak a secret value
// however they are produced. Values are registered as soon as they are known.
import { createRedactor, type Redactor } from './secrets.ts';

const values = new Set<string>();
let redactor: Redactor = (text) => text;
let installed = false;

export function registerSecretValues(list: Iterable<string>): void {
  for (const v of list) if (v) values.add(v);
  redactor = createRedactor(values);
}

export function redact(text: string): string {
  return redactor(text);
}

function wrap(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return original(redactor(chunk), ...rest);
    if (chunk instanceof Uint8Array) return original(redactor(Buffer.from(chunk).toString('utf8')), ...rest);
    return original(chunk, ...rest);
  }) as typeof stream.write;
}

/** Wraps process.stdout and process.stderr; idempotent. */
export function installRedaction(): void {
  if (installed) return;
  installed = true;
  wrap(process.stdout);
  wrap(process.stderr);
}
