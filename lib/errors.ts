// Errors meant for people. Each carries the exit code the CLI uses and a message
// that already says what was wrong, where, and what to do next; the CLI prints the
// message alone (the stack only with --debug).

/** Bad input or usage: nothing was sent to a cluster. Exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The deployment (or teardown) itself failed: a gate, the API server, a tool. Exit code 1. */
export class DeployError extends Error {
  readonly exitCode = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeployError';
  }
}

/** The run was stopped by Ctrl-C (SIGINT, exit 130) or SIGTERM (exit 143), as shells report a signal. */
export class Interrupted extends Error {
  readonly exitCode: number;
  constructor(
    readonly signal: 'SIGINT' | 'SIGTERM',
    message = `Stopped by ${signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM'}.`,
  ) {
    super(message);
    this.name = 'Interrupted';
    this.exitCode = signal === 'SIGINT' ? 130 : 143;
  }
}

/** One problem found in a file, reported together with its siblings. */
export interface Problem {
  file: string;
  /** Key, variable or object the problem is about. */
  key: string;
  line?: number;
  message: string;
  fix: string;
}

export function formatProblems(heading: string, problems: Problem[]): string {
  const lines = problems.map((p) => {
    const where = p.line ? `${p.file}:${p.line}` : p.file;
    return `  - ${where} ${p.key}: ${p.message} Fix: ${p.fix}`;
  });
  return `${heading}\n${lines.join('\n')}`;
}

/** Exit code for any thrown value: our errors carry theirs, anything else is a failed run. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof DeployError || err instanceof Interrupted) return err.exitCode;
  return 1;
}
