// Everything the tool prints goes through one redactor: stdout and stderr are wrapped once at
// start-up, so task titles, listr2 output, errors and --debug traces cannot leak a secret value
// however they are produced. Values are registered as soon as they are known. The pure part
// (the forms a value can take, a redactor over given values) is exported for the parts that
// show a tool's output (docker, minikube, helm) and for tests.

export const REDACTED = '[redacted]';
// Values shorter than this would turn ordinary words into "[redacted]" and hide nothing of worth.
const MIN_REDACTABLE = 4;

/** Every form a secret value can take on its way out: as is, base64 (Secret data), URL-encoded, JSON-escaped. */
export function secretForms(value: string): string[] {
  const once = JSON.stringify(value).slice(1, -1);
  const forms = new Set<string>([
    value,
    Buffer.from(value, 'utf8').toString('base64'),
    encodeURIComponent(value),
    once,
    // Escaped twice: client-node quotes a JSON Status body inside its error message (--debug).
    JSON.stringify(once).slice(1, -1),
  ]);
  // The password inside a connection string is printed on its own by some clients.
  try {
    const url = new URL(value);
    if (url.password) {
      forms.add(url.password);
      forms.add(decodeURIComponent(url.password));
    }
  } catch {
    // not a URL: nothing more to add
  }
  return [...forms].filter((f) => f.length >= MIN_REDACTABLE);
}

/** Text in, the same text with every known secret value replaced out. */
export type Redactor = (text: string) => string;

/** The redactor that knows no value: for callers (and tests) that have nothing to hide. */
export const noRedact: Redactor = (text) => text;

/** A function replacing every form of every given value; longest first so no fragment survives. */
export function createRedactor(values: Iterable<string>): Redactor {
  const forms = [...new Set([...values].flatMap((v) => secretForms(v)))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return noRedact;
  return (text) => {
    let out = text;
    for (const form of forms) out = out.split(form).join(REDACTED);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// The process's redaction: the values registered so far, and the wrapped stdout and stderr.

const values = new Set<string>();
let redactor: Redactor = noRedact;
let installed = false;

export function registerSecretValues(list: Iterable<string>): void {
  for (const v of list) if (v) values.add(v);
  redactor = createRedactor(values);
}

/** Redacts with every value registered so far (a Redactor for the providers and docker). */
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
