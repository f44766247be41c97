// The executor: runs the steps of `up` and `down` and the stages of a plan (apply or delete,
// then wait on the stage's gates, then, when a gate fails, diagnose), and tells what happens as
// events. It draws nothing: a view renders the events (lib/view/listr.ts the task tree, a JSON
// view one line per event), so every view sees the same run.
//
// Events, in order for one step: start (with its children, when it has any), then title and
// output updates, then one end (done, skipped or failed, with the duration). A run begins with
// `run` (the top-level steps, for views that draw the whole list up front) and ends with
// `finish`.
import { Interrupted } from './errors.ts';
import { applyError, applyObject, deleteObject } from './kube/apply.ts';
import type { Cluster } from './kube/client.ts';
import { GateFailed, GateTimeout, watchUntil } from './kube/watch.ts';
import { watchRolloutBlockers } from './kube/failfast.ts';
import { ApiUnavailable, withRetry } from './kube/retry.ts';
import { diagnoseGate, type GateHints } from './kube/diagnose.ts';
import { goneVerdict } from './kinds.ts';
import { objectRef, STAGES, type Stage } from './order.ts';
import type { Gate } from './readiness.ts';
import type { KubeObject, SourcedObject } from './types.ts';
import { formatDuration, type Timing } from './view/durations.ts';

export type { Timing } from './view/durations.ts';

/** A step as a view shows it; children are the sub-steps it runs (the stage's apply and gates). */
export interface StepNode {
  id: string;
  title: string;
  children?: StepNode[];
  /** True when the children run at the same time (a stage's gates). */
  concurrent?: boolean;
}

/** Top-level steps from their titles, keyed (and identified) by name. */
export function steps<K extends string>(titles: Record<K, string>): Record<K, StepNode> {
  return Object.fromEntries(Object.entries<string>(titles).map(([id, title]) => [id, { id, title }])) as Record<K, StepNode>;
}

export type Outcome = 'done' | 'skipped' | 'failed';

export type RunEvent =
  | { type: 'run'; steps: StepNode[] }
  | { type: 'start'; id: string; title: string; children?: StepNode[]; concurrent?: boolean }
  | { type: 'title'; id: string; title: string }
  | { type: 'output'; id: string; line: string }
  | { type: 'end'; id: string; outcome: Outcome; title: string; ms: number; error?: unknown }
  | { type: 'finish'; error?: unknown; ms: number; timings: readonly Timing[] };

export type Listener = (event: RunEvent) => void;

/** What a running step may do: retitle itself, show a line of progress, see the interrupt signal. */
export interface StepIO {
  title(text: string): void;
  output(line: string): void;
  signal?: AbortSignal;
}

/** Thrown by a step to say it has nothing to do; its message becomes the step's title. */
export class Skip {
  constructor(readonly title: string) {}
}

/**
 * The work, unless the signal fires first: then the signal's reason (an Interrupted error), at
 * once, whether or not the work watches the signal itself. Work left running is ignored (the
 * process exits after the message).
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined); // a late failure of abandoned work is not an unhandled rejection
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One run of the executor: its listener, its interrupt signal, and the durations it measured. */
export class Execution {
  readonly timings: Timing[] = [];
  /** The stages whose objects were all applied (or deleted) in this run, and whether their gates passed. */
  readonly acted: { stage: Stage; action: StageAction; ready: boolean }[] = [];
  /** The stage whose apply (or delete) began but did not finish. */
  partial?: Stage;
  readonly started = Date.now();
  /** The step whose output provider logs go to (providers log through one function, built once). */
  private current?: string;

  constructor(
    private readonly listener: Listener,
    readonly signal?: AbortSignal,
  ) {}

  emit(event: RunEvent): void {
    this.listener(event);
  }

  /** Announces the top-level steps. */
  announce(steps: StepNode[]): void {
    this.emit({ type: 'run', steps });
  }

  /** A line of progress for whichever top-level step runs now (for the providers' log). */
  log = (line: string): void => {
    if (this.current) this.emit({ type: 'output', id: this.current, line });
  };

  /** A step whose work was done before the run began (configuration, plan): shown as done. */
  done(id: string, title: string): void {
    this.emit({ type: 'start', id, title });
    this.emit({ type: 'end', id, outcome: 'done', title, ms: 0 });
  }

  skip(id: string, title: string): void {
    this.emit({ type: 'end', id, outcome: 'skipped', title, ms: 0 });
  }

  /**
   * Runs one step: start, the work, end. The work may return the step's closing title (else the
   * last title it set stays). With `timing`, the duration is recorded under that name, also
   * when the step fails; with `showDuration`, the closing title ends with it, "(2.0s)".
   */
  async step(node: StepNode, work: (io: StepIO) => Promise<string | void>, options: { timing?: string; top?: boolean; showDuration?: boolean } = {}): Promise<void> {
    const start = Date.now();
    let title = node.title;
    this.emit({ type: 'start', id: node.id, title, children: node.children, concurrent: node.concurrent });
    if (options.top !== false) this.current = node.id;
    const io: StepIO = {
      title: (text) => {
        title = text;
        this.emit({ type: 'title', id: node.id, title: text });
      },
      output: (line) => this.emit({ type: 'output', id: node.id, line }),
      signal: this.signal,
    };
    const end = (outcome: Outcome, closing: string, error?: unknown) => {
      const ms = Date.now() - start;
      // A skipped step took no time worth a line in the durations table.
      if (options.timing && outcome !== 'skipped') this.timings.push({ title: options.timing, ms });
      const shown = options.showDuration ? `${closing} (${formatDuration(ms)})` : closing;
      this.emit({ type: 'end', id: node.id, outcome, title: shown, ms, error });
    };
    try {
      const closing = await untilAborted(work(io), this.signal);
      end('done', closing ?? title);
    } catch (caught) {
      if (caught instanceof Skip) {
        end('skipped', caught.title);
        return;
      }
      const err = this.interruption(caught, title === node.title ? title : `${node.title} (${title})`);
      end('failed', title, err);
      throw err;
    }
  }

  /** After Ctrl-C or SIGTERM, whatever a step failed with becomes the interruption, naming the step. */
  private interruption(err: unknown, title: string): unknown {
    const reason: unknown = this.signal?.aborted ? this.signal.reason : undefined;
    // The innermost step names itself; the steps around it pass its error on.
    if (!(reason instanceof Interrupted) || (err instanceof Interrupted && err !== reason)) return err;
    return new Interrupted(reason.signal, `${reason.message} It was at: ${title}.`);
  }

  finish(error?: unknown): void {
    this.emit({ type: 'finish', error, ms: Date.now() - this.started, timings: [...this.timings] });
  }
}

// ---------------------------------------------------------------------------------------------
// Stages

/** What the executor does to one stage's objects before waiting on its gates. */
export type StageAction = 'apply' | 'delete';

export interface StageWork {
  stage: Stage;
  /** Position in this run's order (creation: the stage number; deletion: 1 for the Ingress). */
  position: number;
  action: StageAction;
  /** The objects to apply (or delete); those left alone because they are already as planned are not among them. */
  objects: readonly SourcedObject[];
  /** How many of the stage's objects were left alone (unchanged in the cluster). */
  unchanged?: number;
  /** How many of the stage's gates the lists read before the stages already answered (not watched). */
  answered?: number;
  /**
   * The stage's action done by its caller, which then says what is left to wait for (`down`:
   * only objects still there after their DELETE, and the pods of deleted Deployments). Without
   * it the executor applies (or deletes) the objects itself.
   */
  perform?: (cluster: Cluster) => Promise<{ title: string; gates: readonly Gate[] }>;
  /**
   * Gate groups, waited for one after the other; the gates of a group together. A group marked
   * `before` is waited for before the objects are applied (a namespace still being deleted).
   */
  groups: readonly GateGroup[];
  /** Prefix of the stage's step ids, for a second pass over the stages in one view (a rollback after a failure). */
  idPrefix?: string;
}

export interface GateGroup {
  title: string;
  gates: readonly Gate[];
  before?: boolean;
}

export interface StageOptions {
  cluster: Cluster;
  /** Seconds each stage's gates may take together. */
  timeoutSeconds: number;
  /** What diagnosis may add to a failed gate's message (the provider's ingress fix). */
  hints: GateHints;
}

const MAX_LISTED = 3;

/** "Deployment/todo/redis, Deployment/todo/postgres, Deployment/todo/frontend and 2 more". */
export function listObjects(objects: readonly KubeObject[], max = MAX_LISTED): string {
  const refs = objects.map(objectRef);
  return refs.length <= max ? refs.join(', ') : `${refs.slice(0, max).join(', ')} and ${refs.length - max} more`;
}

export function stageId(stage: Stage): string {
  return `stage:${stage.id}`;
}

export function stageTitle(work: Pick<StageWork, 'stage' | 'position'>): string {
  return `Stage ${work.position}/${STAGES.length} ${work.stage.title}`;
}

const workId = (work: Pick<StageWork, 'stage' | 'idPrefix'>) => `${work.idPrefix ?? ''}${stageId(work.stage)}`;
const gateId = (work: Pick<StageWork, 'stage' | 'idPrefix'>, group: number, gate: number) => `${workId(work)}/wait-${group}/${gate}`;

/** Parts that are no group of StageWork.groups: gates the lists answered, and what `perform` left to wait for. */
const ANSWERED = -1;
const AFTER = -2;

interface StagePart {
  node: StepNode;
  /** The gate group the node waits on (ANSWERED, AFTER or an index of groups); undefined for the action itself. */
  group?: number;
}

/** The stage's sub-steps in the order they run: gate groups marked before, the action, the other gate groups. */
function stageParts(work: StageWork): StagePart[] {
  const id = workId(work);
  const verb = work.action === 'apply' ? 'apply' : 'delete';
  const title = work.objects.length > 0 ? `${verb} ${listObjects(work.objects.map((o) => o.object))}` : `unchanged: ${work.unchanged ?? 0} object(s) already as planned`;
  const action: StagePart = { node: { id: `${id}/${verb}`, title } };
  const answered: StagePart[] = work.answered ? [{ node: { id: `${id}/answered`, title: `ready: ${work.answered} gate(s) answered by the listed objects` }, group: ANSWERED }] : [];
  const after: StagePart[] = work.perform ? [{ node: { id: `${id}/after`, title: 'gone' }, group: AFTER }] : [];
  const groups = work.groups
    .map((g, gi) => ({ g, gi }))
    .filter(({ g }) => g.gates.length > 0)
    .map(({ g, gi }) => ({ before: g.before === true, part: { group: gi, node: { id: `${id}/wait-${gi}`, title: g.title, concurrent: true, children: g.gates.map((gate, i) => ({ id: gateId(work, gi, i), title: gate.title })) } } }));
  return [...groups.filter((g) => g.before).map((g) => g.part), action, ...answered, ...after, ...groups.filter((g) => !g.before).map((g) => g.part)];
}

/** The stage's sub-steps as a view shows them. */
export function stageChildren(work: StageWork): StepNode[] {
  return stageParts(work).map((p) => p.node);
}

/**
 * One stage: its objects applied (or deleted) together, then its gates waited for, group by
 * group, within the deadline. The first failure stops the stage's other gates; a failed gate is
 * diagnosed (lib/kube/diagnose.ts) before the error travels on.
 */
export async function runStage(exec: Execution, work: StageWork, options: StageOptions): Promise<void> {
  const id = workId(work);
  const title = stageTitle(work);
  const parts = stageParts(work);
  const run = async () => {
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    let record: Execution['acted'][number] | undefined;
    let after: { title: string; gates: readonly Gate[] } | undefined;
    for (const { node, group } of parts) {
      if (group !== undefined && group >= 0) {
        await exec.step(node, () => waitAll(exec, work, group, work.groups[group]!.gates, deadline, options), { top: false });
      } else if (group === AFTER) {
        const left = after?.gates ?? [];
        const children = left.map((gate, i) => ({ id: gateId(work, AFTER, i), title: gate.title }));
        await exec.step({ ...node, title: after?.title ?? node.title, children, concurrent: true }, async () => {
          if (left.length > 0) await waitAll(exec, work, AFTER, left, deadline, options);
        }, { top: false });
      } else if (group === ANSWERED || work.objects.length === 0) {
        // Nothing to do: the lists already said so (shown, so the stage tells why it was quick).
        await exec.step(node, async () => undefined, { top: false });
      } else {
        exec.partial = work.stage;
        const perform = work.perform;
        await exec.step(node, async () => void (perform ? (after = await perform(options.cluster)) : await act(options.cluster, work, deadline, exec.signal)), { top: false });
        exec.partial = undefined;
        record = { stage: work.stage, action: work.action, ready: false };
        exec.acted.push(record);
      }
    }
    if (record) record.ready = true;
    return title;
  };
  await exec.step({ id, title, children: parts.map((p) => p.node) }, run, { timing: `${work.position}. ${work.stage.title}`, showDuration: true });
}

/**
 * The failure's message told truly about what this run applied: when stages were applied, a
 * "Nothing was applied." in it (an unreachable API server, say) is dropped, and a sentence says
 * which stages were applied and which was not ready or only partly applied. The error keeps its
 * class (and so its exit code).
 */
export function tellApplied(err: unknown, acted: Execution['acted'], partial?: Stage): unknown {
  const applied = acted.filter((a) => a.action === 'apply');
  if (!(err instanceof Error) || (applied.length === 0 && !partial)) return err;
  const name = (s: Stage) => `${s.number} ${s.title}`;
  const ready = applied.filter((a) => a.ready).map((a) => name(a.stage));
  const notReady = applied.filter((a) => !a.ready).map((a) => `${name(a.stage)} (applied, not ready)`);
  const partly = partial ? [`${name(partial)} (partly applied: the failure came while applying it)`] : [];
  const all = [...ready, ...notReady, ...partly];
  err.message = `${err.message.replace(/\s*Nothing was applied\./g, '')}\nApplied by this run before it stopped: stage${all.length === 1 ? '' : 's'} ${all.join(', ')}.`;
  return err;
}

/** Applies (or deletes) the stage's objects together; an API server away for a while is waited for, up to the stage's deadline. */
async function act(cluster: Cluster, work: StageWork, deadline: number, signal?: AbortSignal): Promise<void> {
  const retry = { deadline, signal, server: cluster.server };
  await Promise.all(
    work.objects.map(async (s) => {
      if (work.action === 'delete') {
        await withRetry(`to delete ${objectRef(s.object)}`, () => deleteObject(cluster, s.object), retry);
        return;
      }
      try {
        await withRetry(`to apply ${objectRef(s.object)}`, () => applyObject(cluster, s.object), retry);
      } catch (err) {
        throw err instanceof ApiUnavailable ? err : applyError(cluster, s.object, `${s.file}:${s.line}`, err);
      }
    }),
  );
}

/** Waits on a group's gates together; the first failure stops the rest. */
async function waitAll(exec: Execution, work: StageWork, group: number, gates: readonly Gate[], deadline: number, options: StageOptions): Promise<void> {
  const local = new AbortController();
  const signal = exec.signal ? AbortSignal.any([exec.signal, local.signal]) : local.signal;
  const errors: unknown[] = [];
  await Promise.all(
    gates.map((gate, i) =>
      exec
        .step({ id: gateId(work, group, i), title: gate.title }, async (io) => {
          // A gate that fails fast also watches its pods; whichever ends first ends both.
          const stop = new AbortController();
          const both = AbortSignal.any([signal, stop.signal]);
          try {
            const rollout = watchUntil(options.cluster, gate.target, gate.evaluate, { deadline, goal: gate.goal, signal: both, onProgress: io.title });
            rollout.catch(() => undefined);
            const blockers = gate.failFast ? watchRolloutBlockers(options.cluster, gate.subject, { deadline, signal: both }) : undefined;
            blockers?.catch(() => undefined);
            await (blockers ? Promise.race([rollout, blockers.then(() => rollout)]) : rollout);
          } catch (err) {
            if (local.signal.aborted && !exec.signal?.aborted) throw new Skip(`${gate.title}: stopped (another gate failed)`);
            throw await diagnose(options, gate, err);
          } finally {
            stop.abort();
          }
        }, { top: false })
        .catch((err) => {
          if (!local.signal.aborted) errors.push(err);
          local.abort();
        }),
    ),
  );
  if (errors.length > 0) throw errors[0];
}

async function diagnose(options: StageOptions, gate: Gate, err: unknown): Promise<unknown> {
  if (!(err instanceof GateTimeout || err instanceof GateFailed)) return err;
  return diagnoseGate(options.cluster, gate.subject, err, options.hints);
}

/** The gate `down` waits on after deleting an object: gone from the API. */
export function goneGate(object: KubeObject, ref: Gate['target']['kind']): Gate {
  const name = object.metadata.name;
  return {
    title: `${objectRef(object)} gone`,
    goal: `${objectRef(object)} to be deleted`,
    target: { kind: ref, namespace: object.metadata.namespace, name },
    evaluate: goneVerdict(name),
    subject: object,
  };
}
