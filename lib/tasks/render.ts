// listr2 setup shared by up and down: the default renderer on a terminal, a plain
// line-per-event renderer in CI or when output is piped; timers on every task.
import { Listr, PRESET_TIMER, type ListrTask } from 'listr2';

export function plainOutput(): boolean {
  return !process.stdout.isTTY || process.env.CI === 'true' || process.env.CI === '1';
}

export function createListr<Ctx>(tasks: ListrTask<Ctx>[]): Listr<Ctx> {
  return new Listr<Ctx>(tasks, {
    concurrent: false,
    exitOnError: true,
    renderer: 'default',
    rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false, showErrorMessage: false },
    fallbackRenderer: 'simple',
    fallbackRendererCondition: plainOutput,
    fallbackRendererOptions: { timer: PRESET_TIMER },
    // Ctrl-C is handled by the scripts, which stop watches and exit 1 with a sentence.
    registerSignalListeners: false,
  });
}

/**
 * Runs a task tree with `ctx`. When it fails, the durations measured so far are printed before
 * the error travels on, so a failed run also shows where its time went.
 */
export async function runWithTimings<Ctx extends { timings: Timing[] }>(tasks: ListrTask<Ctx>[], ctx: Ctx): Promise<Ctx> {
  const started = Date.now();
  try {
    await createListr<Ctx>(tasks).run(ctx);
  } catch (err) {
    if (ctx.timings.length > 0) process.stderr.write(`\n${timingSummary('Durations until the failure:', ctx.timings, Date.now() - started)}\n`);
    throw err;
  }
  return ctx;
}

export interface Timing {
  title: string;
  ms: number;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** The closing table: one line per stage and the total. */
export function timingSummary(heading: string, timings: Timing[], totalMs: number): string {
  const width = Math.max(...timings.map((t) => t.title.length), 5);
  const rows = timings.map((t) => `  ${t.title.padEnd(width)}  ${formatDuration(t.ms).padStart(7)}`);
  return [heading, ...rows, `  ${'total'.padEnd(width)}  ${formatDuration(totalMs).padStart(7)}`].join('\n');
}

/** Runs fn and records its duration under title, also when it fails. */
export async function timed<T>(timings: Timing[], title: string, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    timings.push({ title, ms: Date.now() - start });
  }
}
