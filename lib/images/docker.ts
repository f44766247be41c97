// The one place lib/images runs the docker CLI. Every call goes through zx's `$` with its
// arguments quoted by zx (never a shell string we assembled), and a failure becomes a
// DeployError that shows docker's own stderr, passed through the caller's redaction first so a
// secret that docker echoes (a build arg, a registry URL with credentials) never reaches output.
import { DeployError } from '../errors.ts';
import { noRedact, type Redactor } from '../output.ts';

export interface DockerResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface DockerOptions {
  redact?: Redactor;
  cwd?: string;
  /** Data for docker's stdin (docker import -, docker build -f -). */
  input?: string | Buffer;
  /** Extra environment for the docker CLI (DOCKER_BUILDKIT and the like). */
  env?: Record<string, string>;
  /** What the call was for, used in the error's first sentence. */
  what?: string;
  /** What the user should do when it fails. */
  fix?: string;
}

type Shell = typeof import('zx').$;
let shell: Promise<Shell> | undefined;

/**
 * zx's `$`, quiet, loaded on the first docker call: zx takes a few hundred milliseconds to load,
 * which a command that never runs docker (`up --skip-images`) does not pay.
 */
function quietShell(): Promise<Shell> {
  shell ??= import('zx').then(({ $ }) => $({ quiet: true, nothrow: true, verbose: false }));
  return shell;
}

/** Runs `docker <args>` and returns its output, whatever the exit code. */
export async function dockerRaw(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  const quiet = await quietShell();
  const run = options.env || options.cwd || options.input !== undefined
    ? quiet({ cwd: options.cwd, input: options.input, env: { ...process.env, ...options.env } })
    : quiet;
  try {
    const out = await run`docker ${args}`;
    return { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode ?? 1 };
  } catch (err) {
    // Only reached when the process could not be spawned at all (docker not installed).
    const message = err instanceof Error ? err.message : String(err);
    return { stdout: '', stderr: message, exitCode: 127 };
  }
}

/** Runs `docker <args>`; throws a DeployError with docker's (redacted) stderr when it fails. */
export async function docker(args: string[], options: DockerOptions = {}): Promise<DockerResult> {
  const result = await dockerRaw(args, options);
  if (result.exitCode !== 0) throw dockerError(args, result, options);
  return result;
}

/** Last lines of a (long) output, enough to see docker's reason without the whole build log. */
export function tail(text: string, lines = 25): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Drops the CLI's "legacy builder is deprecated" notice, which is noise next to the real reason. */
export function withoutBuilderNotice(text: string): string {
  return text.replace(/DEPRECATED: The legacy builder is deprecated[^\n]*\n(?:[ \t]+[^\n]*\n?)*/g, '').replace(/^\n+/, '');
}

export function dockerError(args: string[], result: DockerResult, options: DockerOptions = {}): DeployError {
  const redact = options.redact ?? noRedact;
  const what = options.what ?? `docker ${args[0] ?? ''}`;
  const notInstalled = result.exitCode === 127 || /ENOENT|command not found/.test(result.stderr);
  const fix = notInstalled
    ? 'install Docker (Debian: `apt-get install docker.io`, then start `dockerd`) and make sure `docker` is on PATH.'
    : /Cannot connect to the Docker daemon|docker daemon is not running|permission denied while trying to connect/i.test(result.stderr)
      ? 'start the Docker engine (`dockerd`, or Docker Desktop) and check that `docker info` answers for this user.'
      : options.fix ?? 'read docker\'s message above, fix the cause, and run again.';
  const detail = tail(withoutBuilderNotice([result.stderr, result.stdout].filter((s) => s.trim() !== '').join('\n')));
  const message = `${what} failed (docker exited ${result.exitCode}).\n${redact(detail)}\nFix: ${fix}`;
  return new DeployError(message);
}

/** True when an image (by name:tag or id) exists in the local image store. */
export async function imageExists(ref: string): Promise<boolean> {
  const result = await dockerRaw(['image', 'inspect', '--format', '{{.Id}}', ref]);
  return result.exitCode === 0;
}

/** A label of a local image, or undefined when the image or label is missing. */
export async function imageLabel(ref: string, label: string): Promise<string | undefined> {
  const result = await dockerRaw(['image', 'inspect', '--format', `{{ index .Config.Labels "${label}" }}`, ref]);
  if (result.exitCode !== 0) return undefined;
  const value = result.stdout.trim();
  return value === '' || value === '<no value>' ? undefined : value;
}

/** Fails with a clear message when no Docker engine answers. */
export async function requireDockerEngine(redact: Redactor = noRedact): Promise<void> {
  const args = ['info', '--format', '{{.ServerVersion}}'];
  const result = await dockerRaw(args);
  if (result.exitCode !== 0 || result.stdout.trim() === '') {
    throw dockerError(args, { ...result, exitCode: result.exitCode || 1 }, { redact, what: 'Reaching the Docker engine' });
  }
}
