// The benchmark's results as data (for --json) and as Markdown (printed, --markdown, and
// bench/RESULTS.md). Pure functions only.
import type { SnapshotDiff } from './cluster-state.ts';
import { PHASES, type PhaseId, type ToolId } from './peers.ts';

export interface StepRecord {
  display: string;
  ms: number;
  code: number | null;
  attempts: number;
  /** How often the step may be run (more than one: a person re-runs it on an ordering failure). */
  maxAttempts: number;
  /** The first failed attempt's last lines, when a step needed more than one. */
  firstFailure?: string;
  /** The command of the later attempts, when it differs from the first (e.g. with --ignore-not-found). */
  retriedWith?: string;
}

export interface Sample {
  run: number;
  ms: number;
  ok: boolean;
  steps: StepRecord[];
  /** Why the phase failed (masked output tail). */
  failure?: string;
  /** 1-minute load average when the phase ended. */
  load1: number;
  /** cold/down: order against the data model's creation (cold) or deletion (down) order. */
  inversions?: string[];
  /** cold/down: the kinds in the order their objects were created / deleted. */
  sequence?: string;
  /** todo-deploy: its own "Durations:" summary, one line ("cluster 44ms, …, total 1.3s"). */
  selfTimings?: string;
  /** cold/down: objects seen created / deleted. */
  objects?: number;
  /** warm: writes to the stack's objects, and to the tools' records in `default`. */
  stackChanges?: SnapshotDiff;
  recordChanges?: SnapshotDiff;
  /** down: the namespace still existed when the tool returned; ms until it was gone after that. */
  namespaceGoneAfterMs?: number;
}

export interface ToolResult {
  id: ToolId;
  version: string;
  waitsFor: string;
  commands: Record<PhaseId, string[]>;
  phases: Record<PhaseId, Sample[]>;
  /** ms of the start-up command, per run. */
  startup: number[];
  startupCommand: string;
}

export interface BuildRecord {
  tool: string;
  version: string;
  seconds: number;
  fromCache: boolean;
}

export interface Probe {
  title: string;
  /** What was done and why, one paragraph. */
  description: string;
  steps: StepRecord[];
  /** What happened, one sentence. */
  outcome: string;
}

export interface BenchResult {
  date: string;
  command: string;
  runs: number;
  machine: { cpus: number; model: string; memGiB: number; os: string; loadAtStart: number[]; loadAtEnd: number[] };
  node: string;
  controlPlane: string;
  builds: BuildRecord[];
  objects: number;
  tools: ToolResult[];
  probes: Probe[];
  /** Set-up: how long a foreground delete of the Dapr kinds took before timing began. */
  settleSeconds: number;
  notMeasured: string[];
  /** Wall time of the whole benchmark, set-up included. */
  totalSeconds: number;
  failed: boolean;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  ok: number;
  total: number;
}

export function summarize(samples: Sample[]): Summary {
  const ms = samples.filter((s) => s.ok).map((s) => s.ms);
  return { median: median(ms), min: ms.length ? Math.min(...ms) : NaN, max: ms.length ? Math.max(...ms) : NaN, ok: ms.length, total: samples.length };
}

export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** "2.91 s (2.80–3.10)", with the failures when some runs failed. */
export function cell(samples: Sample[]): string {
  if (samples.length === 0) return 'not run';
  const s = summarize(samples);
  if (s.ok === 0) return `failed (${s.total}/${s.total})`;
  const range = s.ok > 1 ? ` (${seconds(s.min)} – ${seconds(s.max)})` : '';
  const failed = s.ok < s.total ? `; ${s.total - s.ok}/${s.total} failed` : '';
  return `**${seconds(s.median)}**${range}${failed}`;
}

/** Whether the warm runs wrote anything, e.g. "no (0 of 44 objects)" or "yes: 3 objects". */
export function warmCell(samples: Sample[], objects: number): string {
  const ok = samples.filter((s) => s.ok && s.stackChanges);
  if (ok.length === 0) return '–';
  const stack = Math.max(...ok.map((s) => s.stackChanges!.changed.length + s.stackChanges!.added.length + s.stackChanges!.removed.length));
  const records = Math.max(...ok.map((s) => (s.recordChanges ? s.recordChanges.changed.length + s.recordChanges.added.length + s.recordChanges.removed.length : 0)));
  const stackText = stack === 0 ? `no (0 of ${objects} objects)` : `**yes**: ${stack} of ${objects} objects`;
  return records === 0 ? stackText : `${stackText}; ${records} record write(s) of its own`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function resultsTable(result: BenchResult): string {
  const head = `| Tool | cold deploy (namespace absent) | warm re-run (no change) | warm run wrote | remove (down) |\n|---|---|---|---|---|`;
  const rows = result.tools.map(
    (t) => `| ${t.id} ${escapeCell(t.version)} | ${cell(t.phases.cold)} | ${cell(t.phases.warm)} | ${warmCell(t.phases.warm, result.objects)} | ${cell(t.phases.down)} |`,
  );
  return [head, ...rows].join('\n');
}

/** The "Durations:" block todo-deploy prints at the end, as one line; undefined without one. Pure. */
export function selfTimings(output: string): string | undefined {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Durations:');
  if (start === -1) return undefined;
  const rows: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+(.+?)\s{2,}(\S+)\s*$/.exec(line);
    if (!m) break;
    rows.push(`${m[1]} ${m[2]}`);
  }
  return rows.length ? rows.join(', ') : undefined;
}

/** "Deployment before Service (9)" -> 9, summed. Pure. */
function pairCount(inversions: string[]): number {
  return inversions.reduce((n, i) => n + Number(/\((\d+)\)$/.exec(i)?.[1] ?? 0), 0);
}

function unique(lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}

/** Observations per tool: attempts, ordering, warm writes, leftovers. */
export function observations(t: ToolResult): string[] {
  const out: string[] = [];
  for (const phase of PHASES) {
    for (const s of t.phases[phase]) {
      for (const st of s.steps) {
        if (st.attempts > 1) {
          const then = st.retriedWith ? `, the next ${st.attempts > 2 ? 'ones' : 'one'} being \`${st.retriedWith}\`` : '';
          out.push(`${phase} run ${s.run}: \`${st.display}\` needed ${st.attempts} attempts${then}${st.code === 0 ? '' : ' and still failed'}; the first failed with: ${escapeCell(st.firstFailure ?? '(no output)')}`);
        }
      }
      if (!s.ok && s.failure) out.push(`${phase} run ${s.run} failed: ${escapeCell(s.failure)}`);
    }
  }
  for (const [phase, verb, model] of [
    ['cold', 'created', "the data model's creation order"],
    ['down', 'deleted', "the data model's deletion order (creation order reversed)"],
  ] as const) {
    const ok = t.phases[phase].filter((s) => s.ok && s.sequence !== undefined);
    if (ok.length === 0) continue;
    const sequences = unique(ok.map((s) => [s.sequence!]));
    const pairs = ok.map((s) => pairCount(s.inversions ?? []));
    const varied = Math.max(...pairs) === 0 ? 'the order within a stage varied' : `${sequences.length} different orders`;
    const same = sequences.length === 1 ? (ok.length > 1 ? ` (the same in all ${ok.length} runs)` : '') : ` (run ${ok[0].run}; ${varied} over ${ok.length} runs)`;
    const distinct = [...new Set(pairs)];
    out.push(
      `${phase}: objects ${verb} in this order (by store revision)${same}: ${sequences[0]} — ` +
        (Math.max(...pairs) === 0 ? `follows ${model}` : `${distinct.join(', ')} object pair(s)${distinct.length > 1 ? ' (by run)' : ''} out of ${model}`),
    );
  }
  for (const phase of PHASES) {
    const own = t.phases[phase].filter((s) => s.ok && s.selfTimings);
    if (own.length) out.push(`${phase}: its own timing summary (run ${own[own.length - 1].run}): ${own[own.length - 1].selfTimings}`);
  }
  const down = t.phases.down.filter((s) => s.ok);
  const late = down.filter((s) => s.namespaceGoneAfterMs !== undefined);
  if (late.length) out.push(`down returned while the namespace still existed in ${late.length}/${down.length} runs; it was gone ${late.map((s) => seconds(s.namespaceGoneAfterMs!)).join(', ')} later`);
  // Steps a person would simply run again on an ordering failure: say when once was enough.
  for (const phase of PHASES) {
    const runs = t.phases[phase];
    const retryable = runs.flatMap((s) => s.steps).filter((st) => st.maxAttempts > 1);
    for (const display of new Set(retryable.map((st) => st.display))) {
      const same = retryable.filter((st) => st.display === display);
      const once = same.filter((st) => st.attempts === 1 && st.code === 0).length;
      if (once > 0) out.push(`${phase}: \`${display}\` succeeded at the first attempt in ${once} of ${same.length} run(s)`);
    }
  }
  const warm = t.phases.warm.filter((s) => s.ok && s.stackChanges);
  const warmIds = unique(warm.map((s) => [...s.stackChanges!.changed, ...s.stackChanges!.added, ...s.stackChanges!.removed]));
  if (warmIds.length) out.push(`warm run wrote stack objects: ${warmIds.slice(0, 12).join(', ')}${warmIds.length > 12 ? ', …' : ''}`);
  const recIds = unique(warm.map((s) => (s.recordChanges ? [...s.recordChanges.changed.map((i) => `${i} updated`), ...s.recordChanges.added.map((i) => `${i} created`), ...s.recordChanges.removed.map((i) => `${i} deleted`)] : [])));
  if (recIds.length) out.push(`warm run wrote its own records in \`default\`: ${recIds.slice(0, 8).join(', ')}${recIds.length > 8 ? ', …' : ''}`);
  return out;
}

export function markdownReport(result: BenchResult): string {
  const m = result.machine;
  const lines: string[] = [];
  lines.push('# Deploy benchmark: todo-deploy and its peers', '');
  lines.push(`Measured ${result.date} with \`${result.command}\` (${result.runs} run${result.runs === 1 ? '' : 's'} per tool and phase; in each run every tool does cold, warm, down in turn, and each run starts with the next tool).`, '');
  lines.push(
    `Machine: ${m.cpus} cores (${m.model}), ${m.memGiB} GiB, ${m.os}, Node ${result.node}. Load average (1/5/15 min) at start ${m.loadAtStart.map((l) => l.toFixed(2)).join(' / ')}, at end ${m.loadAtEnd.map((l) => l.toFixed(2)).join(' / ')}` +
      ' — other work shared the machine, so compare tools within this table rather than with other machines.',
    '',
  );
  lines.push(
    `Cluster: the project's loopback control plane (${result.controlPlane}; kwok marks pods Running and Ready, so rollouts finish within about a second and the numbers are dominated by each tool's own work: start-up, discovery, requests, waiting strategy). ` +
      `Every tool deploys the same ${result.objects} objects, rendered once by the pipeline's renderer (lib/plan.ts buildPlan) into a private temporary folder. ` +
      'Before timing, a Dapr control-plane stand-in is made ready in dapr-system (`up` requires a ready Dapr; see bench/README.md), ' +
      `and the cluster is settled: a foreground delete of a Dapr Configuration and Component in a scratch namespace took ${result.settleSeconds} s. ` +
      "(The control plane installs the Dapr CRDs while the controller-manager starts; when its first discovery misses them, the garbage collector tracks them only after its 30 s resync, and until then `down`'s foreground deletes of the Dapr Components hang: 18–20 s in the first run of unsettled benchmarks.)",
    '',
  );
  lines.push('## Wall time: median (min – max)', '', resultsTable(result), '');
  lines.push('"warm run wrote" compares the resourceVersion of every stack object (label app.kubernetes.io/part-of=todo) before and after the warm run; record writes are the tool\'s own bookkeeping objects in `default` (Helm release Secrets, kapp app/change ConfigMaps).', '');
  lines.push('## What each tool ran and waited for', '');
  for (const t of result.tools) {
    lines.push(`### ${t.id} (${t.version})`, '');
    lines.push(`Waits for: ${t.waitsFor}.`, '');
    for (const phase of PHASES) lines.push(`- ${phase}: ${t.commands[phase].map((c) => `\`${c}\``).join(' then ')}`);
    const obs = observations(t);
    if (obs.length) {
      lines.push('', 'Observed:');
      for (const o of obs) lines.push(`- ${o}`);
    }
    lines.push('');
  }
  for (const p of result.probes) {
    lines.push(`## ${p.title}`, '', p.description, '');
    for (const st of p.steps) lines.push(`- \`${st.display}\`: ${st.attempts} attempt(s), ${seconds(st.ms)}${st.code === 0 ? '' : `, exit ${st.code}`}`);
    lines.push('', `Outcome: ${p.outcome}`, '');
  }
  lines.push('## Start-up cost alone', '');
  lines.push('One command that only starts each program, median over the runs: part of every command above (todo-deploy runs through npm and tsx; the kubectl runbook starts kubectl three times per deploy).', '');
  lines.push('| Tool | command | median |', '|---|---|---|');
  for (const t of result.tools) lines.push(`| ${t.id} | \`${t.startupCommand}\` | ${seconds(median(t.startup))} |`);
  lines.push('');
  lines.push('## Tool versions and builds', '');
  lines.push('Built from the Go module proxy by `npx tsx bench/tools.ts` (bench/tools/versions.env; kubectl follows K8S_VERSION of lib/controlplane/build/versions.env) into `${XDG_CACHE_HOME:-~/.cache}/todo-deploy/bench-tools/<versions>/bin`.', '');
  lines.push('| Tool | version | build time |', '|---|---|---|');
  for (const b of result.builds) lines.push(`| ${b.tool} | ${escapeCell(b.version)} | ${b.seconds} s${b.fromCache ? ' (earlier build, reused)' : ''} |`);
  lines.push('');
  if (result.notMeasured.length) {
    lines.push('## Not measured', '');
    for (const n of result.notMeasured) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push(`Whole benchmark: ${seconds(result.totalSeconds * 1000)} including the control plane's start and stop.${result.failed ? ' **Some phases failed; see the observations.**' : ''}`, '');
  return lines.join('\n');
}
