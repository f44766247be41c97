// The benchmark's results as data (for --json) and as Markdown (printed, --markdown, and
// bench/RESULTS.md). Pure functions only.
import type { SnapshotDiff } from './cluster-state.ts';
import { describeCount, type RequestCount } from './audit.ts';
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
  /** Peak RSS of the command (GNU time), KiB. */
  maxRssKiB?: number;
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
  /** API requests the tool made in this phase (from the API server's audit log). */
  requests?: RequestCount;
  /** Peak RSS over the phase's commands, KiB. */
  maxRssKiB?: number;
}

/** A short command timed many times (start-up, validate), interleaved with the others. */
export interface QuickCommand {
  tool: string;
  what: string;
  display: string;
  ms: number[];
  codes: number[];
  maxRssKiB: number[];
}

/** The scale scenario: the stack plus n generated components, cold deploy and down per tool. */
export interface ScalePoint {
  n: number;
  objects: number;
  deployments: number;
  tools: Array<{ id: ToolId; cold: Sample[]; down: Sample[] }>;
}

/** (5) One run of a tool deploying the stack with a Deployment whose pods crash. */
export interface FailureSample {
  run: number;
  /** ms from the tool's start to the first CrashLoopBackOff the benchmark's own pod watch saw; undefined: none seen. */
  crashAfterMs?: number;
  /** ms from the tool's start to its exit, or to the cap when the benchmark stopped it. */
  exitAfterMs: number;
  /** The exit code of the step that ended the run; null when stopped at the cap. */
  code: number | null;
  capped: boolean;
  /** The last lines of the tool's output (masked). */
  output: string;
  maxRssKiB?: number;
}

export interface FailureResult {
  id: ToolId;
  commands: string[];
  samples: FailureSample[];
}

export interface FailureScenario {
  /** Each tool's run is stopped this many seconds after it started. */
  capSeconds: number;
  /** What crashes, one sentence. */
  what: string;
  tools: FailureResult[];
}

/** (8) (1)-(4) on the sandbox's real node. */
export interface RealNodeScenario {
  controlPlane: string;
  objects: number;
  /** Repository -> the local image the benchmark tagged for the node. */
  images: Record<string, string>;
  imageTag: string;
  imageMB: number;
  /** Seconds from the control plane's start to the first timed run (node, images, Dapr stand-in, settling). */
  setupSeconds: number;
  timeoutSeconds: number;
  tools: ToolResult[];
  /** Set when a failure stopped the scenario early. */
  stopped?: string;
}

export interface SkippedScenario {
  scenario: string;
  reason: string;
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
  quick: QuickCommand[];
  scale: ScalePoint[];
  /** (5) failure detection; undefined when not run. */
  failure?: FailureScenario;
  realNode?: RealNodeScenario;
  skipped: SkippedScenario[];
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

/** "1.2×" style ratio of two medians; – when either is missing. Pure. */
export function ratio(peer: number, ours: number): string {
  if (!Number.isFinite(peer) || !Number.isFinite(ours) || ours <= 0) return '–';
  return `${(peer / ours).toFixed(2)}×`;
}

const mib = (kib: number) => `${Math.round(kib / 1024)} MB`;

/** Median of the phases' peak RSS, over the successful runs. Pure. */
export function rssCell(samples: Sample[]): string {
  const v = samples.filter((s) => s.ok && s.maxRssKiB).map((s) => s.maxRssKiB!);
  return v.length ? mib(median(v)) : '–';
}

/** Median request count over the successful runs, with the verbs of the last run. Pure. */
export function requestsCell(samples: Sample[]): string {
  const ok = samples.filter((s) => s.ok && s.requests);
  if (ok.length === 0) return '–';
  const last = ok[ok.length - 1]!.requests!;
  const m = median(ok.map((s) => s.requests!.total));
  return m === last.total ? describeCount(last) : `${m} (last run: ${describeCount(last)})`;
}

export function resultsTable(result: BenchResult): string {
  const head =
    '| Tool | (1) cold deploy | (2) no change | (2) wrote | (3) one image tag changed | (3) wrote | (4) remove (down) |\n|---|---|---|---|---|---|---|';
  const rows = result.tools.map(
    (t) =>
      `| ${t.id} ${escapeCell(t.version)} | ${cell(t.phases.cold)} | ${cell(t.phases.warm)} | ${warmCell(t.phases.warm, result.objects)} | ${cell(t.phases.change)} | ${warmCell(t.phases.change, result.objects)} | ${cell(t.phases.down)} |`,
  );
  return [head, ...rows].join('\n');
}

/** Each peer's median divided by todo-deploy's, per phase: above 1 means todo-deploy is faster. Pure. */
export function ratioTable(result: BenchResult): string {
  const ours = result.tools.find((t) => t.id === 'todo-deploy');
  const peers = result.tools.filter((t) => t.id !== 'todo-deploy');
  if (!ours || peers.length === 0) return '';
  const names: Record<string, string> = { cold: '(1) cold deploy', warm: '(2) no change', change: '(3) one image tag changed', down: '(4) remove' };
  const lines = [`| scenario | todo-deploy | ${peers.map((p) => `${p.id} / todo-deploy`).join(' | ')} |`, `|---|---|${peers.map(() => '---').join('|')}|`];
  for (const phase of PHASES) {
    const m = summarize(ours.phases[phase]).median;
    lines.push(`| ${names[phase]} | ${seconds(m)} | ${peers.map((p) => `${seconds(summarize(p.phases[phase]).median)} (${ratio(summarize(p.phases[phase]).median, m)})`).join(' | ')} |`);
  }
  const failure = result.failure ? failureRatioRow(result.failure, peers.map((p) => p.id)) : undefined;
  if (failure) lines.push(failure);
  return lines.join('\n');
}

/** Peak RSS and API requests per phase and tool. Pure. */
export function resourcesTable(result: BenchResult): string {
  const lines = ['| Tool | peak RSS cold / no change / change / down | API requests: cold | no change | one tag changed | down |', '|---|---|---|---|---|---|'];
  for (const t of result.tools) {
    lines.push(`| ${t.id} | ${PHASES.map((p) => rssCell(t.phases[p])).join(' / ')} | ${requestsCell(t.phases.cold)} | ${requestsCell(t.phases.warm)} | ${requestsCell(t.phases.change)} | ${requestsCell(t.phases.down)} |`);
  }
  return lines.join('\n');
}

/** Least-squares slope of y over x (seconds per extra Deployment). Pure. */
export function slope(points: Array<[number, number]>): number {
  const ok = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (ok.length < 2) return NaN;
  const mx = ok.reduce((a, [x]) => a + x, 0) / ok.length;
  const my = ok.reduce((a, [, y]) => a + y, 0) / ok.length;
  const num = ok.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const den = ok.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

export function scaleTable(result: BenchResult): string {
  if (result.scale.length === 0) return '';
  const ids = [...new Set(result.scale.flatMap((p) => p.tools.map((t) => t.id)))];
  const lines = [`| generated components (objects) | ${ids.map((id) => `${id} up / down`).join(' | ')} |`, `|---|${ids.map(() => '---').join('|')}|`];
  for (const p of result.scale) {
    lines.push(`| +${p.n} (${p.objects}) | ${ids.map((id) => { const t = p.tools.find((x) => x.id === id); return t ? `${cell(t.cold)} / ${cell(t.down)}` : '–'; }).join(' | ')} |`);
  }
  const per = (id: ToolId, phase: 'cold' | 'down') => slope(result.scale.map((p) => [p.deployments, summarize(p.tools.find((t) => t.id === id)?.[phase] ?? []).median / 1000]));
  const ms = (v: number) => (Number.isFinite(v) ? `${(v * 1000).toFixed(0)} ms` : '–');
  lines.push(`| slope per extra Deployment (least squares) | ${ids.map((id) => `${ms(per(id, 'cold'))} / ${ms(per(id, 'down'))}`).join(' | ')} |`);
  return lines.join('\n');
}

/** ms from the first CrashLoopBackOff to the exit; NaN when no crash was seen. Pure. */
export function detectionMs(s: FailureSample): number {
  return s.crashAfterMs === undefined ? NaN : s.exitAfterMs - s.crashAfterMs;
}

/** Median detection time over the runs, and whether any run reached the cap (then it is a lower bound). Pure. */
export function detection(samples: FailureSample[]): { ms: number; capped: boolean; detected: boolean } {
  const ms = median(samples.map(detectionMs).filter(Number.isFinite));
  const capped = samples.some((s) => s.capped);
  return { ms, capped, detected: samples.length > 0 && samples.every((s) => !s.capped && s.code !== 0) };
}

function detectionCell(samples: FailureSample[], capSeconds: number): string {
  if (samples.length === 0) return 'not run';
  const d = detection(samples);
  if (!Number.isFinite(d.ms)) return samples.every((s) => s.capped) ? `no CrashLoopBackOff seen within the cap (${capSeconds} s)` : 'no CrashLoopBackOff seen';
  if (d.capped) return `**not detected**: stopped at the cap (${capSeconds} s after its start), ≥ ${seconds(d.ms)} after the first CrashLoopBackOff`;
  if (samples.some((s) => s.code === 0)) return `exited 0 (did not report the failure) ${seconds(d.ms)} after the first CrashLoopBackOff`;
  return `**${seconds(d.ms)}**`;
}

/** (5): per tool, when the crash showed, when the tool exited, and the difference. Pure. */
export function failureTable(f: FailureScenario): string {
  const lines = ['| Tool | command | first CrashLoopBackOff (after the tool started) | exit (after the tool started) | exit code | detection: exit − first CrashLoopBackOff, median |', '|---|---|---|---|---|---|'];
  for (const t of f.tools) {
    const crash = t.samples.map((s) => (s.crashAfterMs === undefined ? '–' : seconds(s.crashAfterMs))).join(', ');
    const exit = t.samples.map((s) => `${seconds(s.exitAfterMs)}${s.capped ? ' (cap)' : ''}`).join(', ');
    const codes = t.samples.map((s) => (s.capped ? 'stopped' : String(s.code))).join(', ');
    lines.push(`| ${t.id} | ${t.commands.map((c) => `\`${escapeCell(c)}\``).join(' then ')} | ${crash} | ${exit} | ${codes} | ${detectionCell(t.samples, f.capSeconds)} |`);
  }
  return lines.join('\n');
}

/** The (5) row of the ratio table: each peer's detection time over todo-deploy's ("≥" when the peer hit the cap). Pure. */
export function failureRatioRow(f: FailureScenario, peerIds: readonly ToolId[]): string | undefined {
  const ours = f.tools.find((t) => t.id === 'todo-deploy');
  if (!ours) return undefined;
  const o = detection(ours.samples);
  const oursText = o.capped ? `≥ ${seconds(o.ms)} (cap)` : seconds(o.ms);
  const cells = peerIds.map((id) => {
    const t = f.tools.find((x) => x.id === id);
    if (!t) return 'not run';
    const p = detection(t.samples);
    if (!Number.isFinite(p.ms)) return '–';
    const r = ratio(p.ms, o.ms);
    // A ratio needs todo-deploy's own time: when it hit the cap too, there is none.
    if (o.capped) return p.capped ? `≥ ${seconds(p.ms)} (cap; both capped, no ratio)` : `${seconds(p.ms)} (≤ ${r})`;
    return p.capped ? `≥ ${seconds(p.ms)} (cap; ≥ ${r})` : `${seconds(p.ms)} (${r})`;
  });
  return `| (5) failure detection (first CrashLoopBackOff → exit) | ${oursText} | ${cells.join(' | ')} |`;
}

export function quickTable(result: BenchResult): string {
  if (result.quick.length === 0) return '';
  const lines = ['| Tool | what | command | median (min – max) | peak RSS |', '|---|---|---|---|---|'];
  for (const q of result.quick) {
    const ms = q.ms;
    const range = ms.length > 1 ? ` (${seconds(Math.min(...ms))} – ${seconds(Math.max(...ms))})` : '';
    lines.push(`| ${q.tool} | ${q.what} | \`${escapeCell(q.display)}\` | **${seconds(median(ms))}**${range} | ${q.maxRssKiB.length ? mib(median(q.maxRssKiB)) : '–'} |`);
  }
  return lines.join('\n');
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

/** One target of the issue, judged from this run's numbers. */
export interface TargetCheck {
  target: string;
  measured: string;
  /** undefined: not measured in this run. */
  met?: boolean;
}

/** The issue's targets, each judged from the results (medians; ratios are peer / todo-deploy). Pure. */
export function targetChecks(result: BenchResult): TargetCheck[] {
  const out: TargetCheck[] = [];
  const quick = (what: string) => result.quick.find((q) => q.tool === 'todo-deploy' && q.what === what);
  const limit = (target: string, q: QuickCommand | undefined, maxMs: number) => {
    const m = q ? median(q.ms) : NaN;
    out.push({ target, measured: Number.isFinite(m) ? seconds(m) : 'not measured', met: Number.isFinite(m) ? m <= maxMs : undefined });
  };
  limit('`npm run up -- --help` ≤ 0.4 s through npm', quick('start-up through npm'), 400);
  limit('the script alone (`node scripts/bundle/todo-deploy.mjs up --help`) ≤ 0.15 s', quick('start-up, the script alone'), 150);
  limit('`npm run validate` on the stack ≤ 0.5 s through npm', quick('(7) validate through npm'), 500);
  const ours = result.tools.find((t) => t.id === 'todo-deploy');
  const peer = (id: ToolId) => result.tools.find((t) => t.id === id);
  const vs = (target: string, phase: PhaseId, id: ToolId, extra?: { met: boolean; text: string }) => {
    const o = ours ? summarize(ours.phases[phase]).median : NaN;
    const p = peer(id) ? summarize(peer(id)!.phases[phase]).median : NaN;
    if (!Number.isFinite(o) || !Number.isFinite(p)) return out.push({ target, measured: 'not measured' });
    out.push({ target, measured: `${seconds(o)} against ${seconds(p)} (${ratio(p, o)})${extra ? `; ${extra.text}` : ''}`, met: o <= p && (extra?.met ?? true) });
  };
  vs('cold `up` ≤ 1.0× the kubectl runbook', 'cold', 'kubectl');
  const warm = ours?.phases.warm.filter((s) => s.ok && s.stackChanges) ?? [];
  const wrote = warm.length ? Math.max(...warm.map((s) => s.stackChanges!.changed.length + s.stackChanges!.added.length + s.stackChanges!.removed.length)) : NaN;
  vs('`up` with nothing changed ≤ 1.0× the kubectl runbook, writing 0 objects', 'warm', 'kubectl', { met: wrote === 0, text: `wrote ${Number.isFinite(wrote) ? wrote : '?'} object(s)` });
  vs('`down` ≤ 1.0× `kapp delete`', 'down', 'kapp');
  const f = result.failure?.tools.find((t) => t.id === 'todo-deploy');
  if (!f) out.push({ target: 'failure detection ≤ 2 s after the first CrashLoopBackOff', measured: 'not measured' });
  else {
    const d = detection(f.samples);
    out.push({ target: 'failure detection ≤ 2 s after the first CrashLoopBackOff', measured: d.capped ? `not detected within the cap (${result.failure!.capSeconds} s)` : seconds(d.ms), met: !d.capped && d.detected && d.ms <= 2000 });
  }
  const slopeOf = (id: ToolId, phase: 'cold' | 'down') => slope(result.scale.map((p) => [p.deployments, summarize(p.tools.find((t) => t.id === id)?.[phase] ?? []).median / 1000]));
  const ms = (v: number) => (Number.isFinite(v) ? `${(v * 1000).toFixed(0)} ms` : '–');
  if (result.scale.length >= 2) {
    const [ou, ku] = [slopeOf('todo-deploy', 'cold'), slopeOf('kubectl', 'cold')];
    out.push({ target: 'scale: `up` grows no steeper than the kubectl runbook (per extra Deployment)', measured: `${ms(ou)} against ${ms(ku)}`, met: Number.isFinite(ou) && Number.isFinite(ku) ? ou <= ku : undefined });
    const [od, kd] = [slopeOf('todo-deploy', 'down'), slopeOf('kubectl', 'down')];
    out.push({ target: 'scale: `down` grows no steeper than `kubectl delete` (the runbook\'s `delete -f --wait`; `kubectl delete namespace --wait` is not run)', measured: `${ms(od)} against ${ms(kd)}`, met: Number.isFinite(od) && Number.isFinite(kd) ? od <= kd : undefined });
  } else out.push({ target: 'scale: slopes of `up` and `down`', measured: 'not measured' });
  const rss = ours ? PHASES.map((p) => ours.phases[p].filter((s) => s.ok && s.maxRssKiB).map((s) => s.maxRssKiB!)).flat() : [];
  out.push({ target: 'peak RSS of `up` and `down` under 200 MB', measured: rss.length ? `at most ${Math.round(Math.max(...rss) / 1024)} MB` : 'not measured', met: rss.length ? Math.max(...rss) < 200 * 1024 : undefined });
  return out;
}

export function targetsTable(result: BenchResult): string {
  const lines = ['| target (issue 13) | this run | met |', '|---|---|---|'];
  for (const c of targetChecks(result)) lines.push(`| ${c.target} | ${escapeCell(c.measured)} | ${c.met === undefined ? '–' : c.met ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

export function markdownReport(result: BenchResult): string {
  const m = result.machine;
  const lines: string[] = [];
  lines.push('# Deploy benchmark: todo-deploy and its peers', '');
  lines.push(`Measured ${result.date} with \`${result.command}\` (${result.runs} run${result.runs === 1 ? '' : 's'} per tool and phase; in each run every tool does (1) cold, (2) no change, (3) one image tag changed, (4) down in turn, and each run starts with the next tool).`, '');
  lines.push(
    `Machine: ${m.cpus} cores (${m.model}), ${m.memGiB} GiB, ${m.os}, Node ${result.node}. Load average (1/5/15 min) at start ${m.loadAtStart.map((l) => l.toFixed(2)).join(' / ')}, at end ${m.loadAtEnd.map((l) => l.toFixed(2)).join(' / ')}` +
      ' — other work shared the machine, so compare tools within this table rather than with other machines.',
    '',
  );
  lines.push(
    `Cluster: the project's loopback control plane (${result.controlPlane}; kwok marks pods Running and Ready, so rollouts finish within about a second and the numbers are dominated by each tool's own work: start-up, discovery, requests, waiting strategy). ` +
      `Every tool deploys the same ${result.objects} objects, rendered once by the pipeline's renderer (lib/plan.ts planDeployment) into a private temporary folder. ` +
      'Before timing, a Dapr control-plane stand-in is made ready in dapr-system (`up` requires a ready Dapr; see bench/README.md), ' +
      `and the cluster is settled: a foreground delete of a Dapr Configuration and Component in a scratch namespace took ${result.settleSeconds} s. ` +
      "(The control plane installs the Dapr CRDs while the controller-manager starts; when its first discovery misses them, the garbage collector tracks them only after its 30 s resync, and until then `down`'s foreground deletes of the Dapr Components hang: 18–20 s in the first run of unsettled benchmarks.)",
    '',
  );
  lines.push('## Wall time: median (min – max)', '', resultsTable(result), '');
  lines.push('"wrote" compares the resourceVersion of every stack object (label app.kubernetes.io/part-of=todo) before and after the run; record writes are the tool\'s own bookkeeping objects in `default` (Helm release Secrets, kapp app/change ConfigMaps). (3) deploys the stack with the backend Deployment\'s image tag moved on by one patch release (todo-deploy: `--manifests` with that one line changed; the peers: the same objects re-rendered).', '');
  lines.push('## Each peer against todo-deploy', '', 'Each peer\'s median divided by todo-deploy\'s (above 1×: todo-deploy is faster).', '', ratioTable(result), '');
  lines.push('## The targets', '', 'Judged by the report from the numbers of this run (medians; on the simulated cluster).', '', targetsTable(result), '');
  lines.push('## Peak memory and API requests', '', 'Peak RSS: the largest process of the command (GNU time; for todo-deploy that is its node process under npm), median over the runs. API requests: the lines the API server\'s audit log wrote for the identity the tools run as (a ServiceAccount only they use), between the phase\'s start and end; a watch counts when it ends.', '', resourcesTable(result), '');
  if (result.scale.length) {
    lines.push('## (6) Scale: the stack plus generated components', '', 'Each generated component is a copy of the frontend\'s ServiceAccount, Role, RoleBinding, Service and Deployment (named gen-<i>), so every tool deploys and removes the same objects and todo-deploy\'s policy gate passes them. Cold deploy, then down; median (min – max). The slope is the least-squares fit of the medians over the number of Deployments (the stack\'s 5 included).', '', scaleTable(result), '');
  }
  if (result.failure) {
    const f = result.failure;
    lines.push(
      '## (5) Failure detection',
      '',
      `${f.what} Each tool deploys it into the absent namespace; the benchmark watches the pods itself and notes when a pod first shows CrashLoopBackOff, and when the tool exits. Detection is the time between the two. A run still going ${f.capSeconds} s after the tool started is stopped there (the cap): Helm's \`--wait --timeout 5m\` and kubectl's \`rollout status --timeout 5m\` would otherwise wait out their five minutes (kubectl's rollout status ends earlier only at the Deployment's progress deadline, 600 s by default).`,
      '',
      failureTable(f),
      '',
    );
  }
  if (result.realNode) {
    const r = result.realNode;
    const on = { ...result, tools: r.tools, objects: r.objects, failure: undefined };
    lines.push(
      '## (8) (1)–(4) on the real node',
      '',
      `The same phases on the sandbox's real node instead of kwok (${r.controlPlane}; containerd, kubelet and kube-proxy in a network namespace, lib/controlplane/node): pods start real containers from the local images and pass their real readiness probes (PostgreSQL in the cluster, the backend's /readyz). ` +
        `Images: the newest local image of each repository (${Object.values(r.images).map((i) => `\`${i}\``).join(', ')}), tagged \`${r.imageTag}\` for every tool and imported into the node's containerd (${r.imageMB} MB; nothing pulled or built). ` +
        `Set-up before the first timed run: ${r.setupSeconds} s. Each tool's readiness deadline: ${r.timeoutSeconds} s.${r.stopped ? ` **Stopped early:** ${escapeCell(r.stopped)}.` : ''}`,
      '',
      resultsTable(on),
      '',
      ratioTable(on),
      '',
      resourcesTable(on),
      '',
    );
    for (const t of r.tools) {
      const obs = observations(t).filter((o) => /timing summary|failed/.test(o));
      if (obs.length) lines.push(`${t.id} on the real node:`, ...obs.map((o) => `- ${o}`), '');
    }
  }
  if (result.quick.length) {
    lines.push('## Start-up and (7) validate', '', 'Short commands, each run many times, interleaved. For todo-deploy both through npm (as a person types it) and the script alone (`node scripts/bundle/todo-deploy.mjs`, what npm runs); `validate` renders the manifests and checks every policy rule. kube-score scores the same rendered files (its exit code says it found problems; only the time is compared).', '', quickTable(result), '');
  }
  if (result.skipped.length) {
    lines.push('## Scenarios not run', '');
    for (const sk of result.skipped) lines.push(`- ${sk.scenario}: ${sk.reason}`);
    lines.push('');
  }
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
