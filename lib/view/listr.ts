// The task tree: listr2 rendering the executor's events. Each step becomes a task that waits for
// its own events (start, title, output, end); a step's children are returned to it as subtasks,
// so the whole run is one tree that the default renderer redraws in place. When output is not
// a terminal (a pipe, CI=true), listr2's plain renderer prints one line per event instead.
import { Listr, PRESET_TIMER, type ListrTask, type ListrTaskWrapper } from 'listr2';
import type { Listener, RunEvent, StepNode } from '../executor.ts';
import { formatDuration, timingSummary, type Timing } from './durations.ts';
import { Interrupted } from '../errors.ts';

export function plainOutput(): boolean {
  return !process.stdout.isTTY || process.env.CI === 'true' || process.env.CI === '1';
}

/**
 * The durations that close a successful run. Plain output gets the table (one line per step, as
 * CI logs and the benchmark read it); on a terminal each step's duration is already on its line
 * of the tree, so a second copy of them would double the screen: only the total.
 */
export function closingDurations(timings: readonly Timing[], totalMs: number): string {
  return plainOutput() ? timingSummary('Durations:', timings, totalMs) : `Total ${formatDuration(totalMs)} (each step's duration is on its line above).`;
}

/**
 * The renderer's timer shows every finished step's duration (the tree's on a terminal, the
 * plain lines' in brackets), so a title that ends with the executor's "(2.5s)" (a stage's)
 * would show it twice: the title loses it.
 */
function titleShown(title: string, ms: number): string {
  const suffix = ` (${formatDuration(ms)})`;
  return title.endsWith(suffix) ? title.slice(0, -suffix.length) : title;
}

type StartEvent = Extract<RunEvent, { type: 'start' }>;
type EndEvent = Extract<RunEvent, { type: 'end' }>;
type Wrapper = ListrTaskWrapper<unknown, any, any>;

interface Signal {
  promise: Promise<void>;
  fire(): void;
}

function signal(): Signal {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => (fire = resolve));
  return { promise, fire };
}

interface NodeState {
  title?: string;
  task?: Wrapper;
  start?: StartEvent;
  end?: EndEvent;
  started: Signal;
  ended: Signal;
}

export interface View {
  listener: Listener;
  /** Settles once the tree has drawn its last frame. */
  closed(): Promise<void>;
}

/** A view drawing the run as a listr2 task tree (created when the run announces its steps). */
export function listrView(): View {
  const nodes = new Map<string, NodeState>();
  let running: Promise<unknown> = Promise.resolve();
  const state = (id: string): NodeState => {
    let s = nodes.get(id);
    if (!s) {
      s = { started: signal(), ended: signal() };
      nodes.set(id, s);
    }
    return s;
  };

  const retitle = (id: string, title: string): NodeState => {
    const s = state(id);
    s.title = title;
    if (s.task) s.task.title = title;
    return s;
  };

  const settle = async (s: NodeState, task: Wrapper) => {
    await s.ended.promise;
    if (s.end?.outcome === 'failed') throw s.end.error ?? new Error(`${s.end.title} failed`);
    if (s.end?.outcome === 'skipped') task.skip(s.end.title);
  };

  const toTask = (node: StepNode): ListrTask<unknown> => ({
    title: node.title,
    task: async (_ctx, task) => {
      const s = state(node.id);
      s.task = task;
      if (s.title) task.title = s.title;
      await s.started.promise;
      if (!s.start && s.end?.outcome === 'skipped') {
        task.skip(s.end.title);
        return;
      }
      const children = s.start?.children ?? [];
      if (children.length === 0) return settle(s, task);
      // The children are returned to this task, so they draw inside it; a last untitled task
      // holds the parent open until its own end arrives (and carries its failure).
      return task.newListr([...children.map(toTask), { task: (_c, t) => settle(s, t as Wrapper) }], { concurrent: s.start?.concurrent ?? false, exitOnError: true });
    },
  });

  const listener: Listener = (event) => {
    switch (event.type) {
      case 'run':
        running = createListr(event.steps.map(toTask)).run().catch(() => undefined);
        return;
      case 'start':
        retitle(event.id, event.title).start = event;
        state(event.id).started.fire();
        return;
      case 'title':
        retitle(event.id, event.title);
        return;
      case 'output': {
        const task = nodes.get(event.id)?.task;
        if (task) task.output = event.line;
        return;
      }
      case 'end': {
        // A skip's message becomes the title through task.skip (retitling first would show it twice).
        const s = event.outcome === 'skipped' ? state(event.id) : retitle(event.id, titleShown(event.title, event.ms));
        s.end = event;
        s.started.fire();
        s.ended.fire();
        return;
      }
      case 'finish':
        // A failed run also shows where its time went, once the tree has drawn its last frame.
        if (event.error !== undefined && event.timings.length > 0) {
          const summary = timingSummary(event.error instanceof Interrupted ? 'Durations until the interruption:' : 'Durations until the failure:', event.timings, event.ms);
          running = running.then(() => void process.stderr.write(`\n${summary}\n`));
        }
        // Whatever still waits (a failure outside any step) ends with the run.
        for (const s of nodes.values()) {
          if (!s.end) s.end = { type: 'end', id: '', outcome: event.error ? 'failed' : 'done', title: s.title ?? '', ms: 0, error: event.error };
          s.started.fire();
          s.ended.fire();
        }
        return;
    }
  };
  return { listener, closed: () => running.then(() => undefined) };
}

function createListr(tasks: ListrTask<unknown>[]): Listr<unknown> {
  return new Listr<unknown>(tasks, {
    concurrent: false,
    exitOnError: true,
    renderer: 'default',
    // The timer in the executor's own format ("148ms", "2.5s"; listr2's preset rounds to "2s").
    rendererOptions: { timer: { ...PRESET_TIMER, field: formatDuration }, collapseSubtasks: true, showErrorMessage: false },
    fallbackRenderer: 'simple',
    fallbackRendererCondition: plainOutput,
    fallbackRendererOptions: { timer: PRESET_TIMER },
    // Ctrl-C is handled by the scripts, which stop watches and exit with a sentence.
    registerSignalListeners: false,
  });
}
