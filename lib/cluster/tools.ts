// The command-line tools the providers drive (minikube, kind, helm, dapr, docker): found on
// PATH, run with zx's `$` (arguments quoted by zx, never a shell string we
// assembled), and a failure turned into a DeployError that shows the tool's own stderr through
// the run's redaction, so a secret a tool echoes never reaches the output.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
// zx is imported where a tool runs, not at start-up: it takes a few hundred milliseconds to load,
// which a command that runs no tool (`up --cluster current`) does not pay. Finding a tool needs
// no zx: zx settles its shell from PATH when it loads, so loading it only to look a tool up
// under an unusual PATH would leave it without bash for the rest of the process.
import { DeployError, UsageError } from '../errors.ts';
import type { Redactor } from '../output.ts';

export type ToolName = 'minikube' | 'kind' | 'helm' | 'dapr' | 'docker' | 'go';

/** How to install each tool, for error messages and `doctor`. */
export const INSTALL: Record<ToolName, string> = {
  minikube: 'install minikube (https://minikube.sigs.k8s.io/docs/start/; macOS: `brew install minikube`; Linux: the minikube-linux-amd64 binary from that page into /usr/local/bin)',
  kind: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation; `go install sigs.k8s.io/kind@v0.30.0` or `brew install kind`)',
  helm: 'install Helm 3 (https://helm.sh/docs/intro/install/; `brew install helm`)',
  dapr: 'install the Dapr CLI (https://docs.dapr.io/getting-started/install-dapr-cli/)',
  docker: 'install Docker (https://docs.docker.com/engine/install/; Debian: `apt-get install docker.io`) and start it',
  go: 'install Go 1.26 or newer (https://go.dev/doc/install)',
};

/** The tool's path on PATH (the first executable file of that name), or undefined. PATH is read at each call, so tests can change it. */
export async function findTool(name: ToolName): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      await access(file, constants.X_OK);
      if ((await stat(file)).isFile()) return file;
    } catch {
      // not there, or not executable: the next folder
    }
  }
  return undefined;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ToolOptions {
  redact: Redactor;
  /** Extra environment (KUBECONFIG and the like) over the process environment. */
  env?: Record<string, string>;
  /** What the call is for: the first words of the error ("Starting minikube profile todo"). */
  what?: string;
  /** What the user should do when it fails. */
  fix?: string;
  /** Each line of the tool's output as it arrives (progress for long steps), redacted. */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

/** Runs `<tool> <args>` and returns its output whatever the exit code; 127 when it is not installed. */
export async function runToolRaw(tool: ToolName, args: string[], options: ToolOptions): Promise<ToolResult> {
  const { $ } = await import('zx');
  const run = $({
    quiet: true,
    nothrow: true,
    verbose: false,
    env: { ...process.env, ...options.env },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const child = run`${tool} ${args}`;
  if (options.onLine) {
    let pending = '';
    const emit = (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim() !== '') options.onLine!(options.redact(line.trimEnd()));
    };
    child.stdout.on('data', emit);
    child.stderr.on('data', emit);
  }
  try {
    const out = await child;
    return { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode ?? 1 };
  } catch (err) {
    // Only reached when the shell could not start the process at all.
    return { stdout: '', stderr: err instanceof Error ? err.message : String(err), exitCode: 127 };
  }
}

/** Runs a tool; throws a DeployError with its redacted stderr when it fails. */
export async function runTool(tool: ToolName, args: string[], options: ToolOptions): Promise<ToolResult> {
  const result = await runToolRaw(tool, args, options);
  if (result.exitCode !== 0) throw toolError(tool, args, result, options);
  return result;
}

/** Last lines of an output: enough to see the tool's reason without its whole log. */
export function tailLines(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function toolError(tool: ToolName, args: string[], result: ToolResult, options: Pick<ToolOptions, 'redact' | 'what' | 'fix'>): Error {
  const command = [tool, ...args].join(' ');
  if (result.exitCode === 127 && /not found|ENOENT/i.test(result.stderr)) return missingToolError(tool, `\`${command}\` could not run`);
  const detail = [result.stderr, result.stdout].filter((s) => s.trim() !== '').map((s) => tailLines(s)).join('\n');
  const what = options.what ?? `\`${command}\``;
  return new DeployError(
    options.redact(`${what} failed: \`${command}\` exited ${result.exitCode}.\n${detail || '(it printed nothing)'}\nFix: ${options.fix ?? `read ${tool}'s message above, fix the cause, and run again.`}`),
  );
}

/** A required tool is not on PATH: a usage problem (exit 2), with how to install it. */
export function missingToolError(tool: ToolName, context: string, alternatives?: string): UsageError {
  return new UsageError(`${context}: \`${tool}\` is not installed (not found on PATH). Fix: ${INSTALL[tool]}${alternatives ? `, ${alternatives}` : ''}.`);
}

/** Throws missingToolError unless the tool is on PATH. */
export async function requireTool(tool: ToolName, context: string, alternatives?: string): Promise<string> {
  const found = await findTool(tool);
  if (!found) throw missingToolError(tool, context, alternatives);
  return found;
}
