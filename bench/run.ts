// npm run bench: todo-deploy side by side with kubectl, Helm and kapp on the project's own
// loopback control plane, deploying the same rendered objects. See bench/README.md.
//
// Order of work: build (or reuse) the peer tools, render the stack into a private temporary
// folder, start the control plane and a Dapr stand-in, then for each run and each tool:
// cold deploy, warm re-run, down. Everything it starts or writes is removed on every way out
// (success, failure, Ctrl-C): the control plane is stopped and the temporary folder deleted.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane, describeVersions, type ControlPlane } from '../lib/controlplane/index.ts';
import { UsageError, exitCodeOf } from '../lib/errors.ts';
import { REPO_ROOT } from '../lib/repo-root.ts';
import { clusterFromKubeConfig, type Cluster } from '../lib/kube/client.ts';
import { diffSnapshots, kindSequence, namespaceExists, settleGarbageCollector, objectsWith, orderInversions, recordStack, recordsSnapshot, stackSnapshot, waitNamespaceGone } from './cluster-state.ts';
import { installDaprStandIn } from './dapr-stand-in.ts';
import { displayCommand, killRunning, mask, runCommand, tail, type CommandResult } from './measure.ts';
import { parseToolList, PHASES, toolPlans, type PhaseId, type Step, type ToolId, type ToolPlan } from './peers.ts';
import { BENCH_SECRETS, renderStack, writeChart, writePerObject, writeRendered, type RenderedStack } from './render.ts';
import { markdownReport, ratioTable, resultsTable, seconds, selfTimings, type BenchResult, type FailureSample, type FailureScenario, type Probe, type QuickCommand, type Sample, type RealNodeScenario, type ScalePoint, type SkippedScenario, type StepRecord, type ToolResult } from './report.ts';
import { describeToolVersions, ensureKubeScore, ensureTools } from './tools.ts';
import { countSince, logOffset, writeAuditPolicy, writeToolKubeconfig } from './audit.ts';
import { nextTag, writeChangedManifests, writeCrashingManifests, writeScaledManifests } from './variants.ts';
import { watchUntil } from '../lib/kube/watch.ts';
import { KINDS } from '../lib/kinds.ts';
import type { KubeObject } from '../lib/types.ts';
import type { Variant } from './peers.ts';
import { REAL_NODE_TAG, loadIntoNode, realNodeUnavailable, tagImages, untagImages } from './real-node.ts';
import { imageRefs } from '../lib/controlplane/versions.ts';

const USAGE = `Usage: npm run bench -- [options]

Measures todo-deploy side by side with a kubectl runbook, Helm and kapp deploying the same
rendered objects to the project's loopback control plane, which the benchmark starts and
stops itself: (1) cold deploy, (2) deploy with nothing changed, (3) deploy with one image tag
changed, (4) remove, interleaved; (5) a Deployment whose pods crash (time from the first CrashLoopBackOff to the
tool's non-zero exit); (6) the stack plus generated components; start-up and
(7) validate against kube-score. Reports medians (min – max), each peer's median divided by
todo-deploy's, peak RSS and the API requests of every phase.

Options:
  --runs N          runs per tool and phase (default 3)
  --json FILE       also write the results as JSON
  --markdown FILE   also write the full report as Markdown (bench/RESULTS.md is made this way)
  --tools LIST      comma-separated subset of todo-deploy,kubectl,helm,kapp (default all)
  --env dev|prod    environment rendered (default dev)
  --timeout S       seconds each tool may wait for readiness (default 300)
  --scale LIST      generated components for (6), e.g. 10,50,100 (default); none to skip
  --scale-runs N    runs per tool and size of (6) (default 1)
  --failure-runs N  runs per tool of (5) failure detection (default 1; 0 skips it)
  --failure-cap S   seconds after which a (5) run is stopped (default 60)
  --quick-runs N    runs of each start-up and validate command (default 10)
  --real-node auto|off
                    (8): (1)-(4) again on the sandbox's real node (default auto: when this
                    machine can run one, its programs are built, and no other real node runs
                    here; the control plane of the other scenarios is stopped first)
  --real-runs N     runs per tool and phase of (8) (default 1)
  --real-timeout S  seconds each tool may wait for readiness in (8) (default 180)
  -h, --help        show this help

Exit codes: 0 every phase succeeded, 1 a phase or the set-up failed, 2 bad options.

Needs Go (kubectl, helm and kapp are built from the Go module proxy on first use, about 10
minutes on 2 cores; later runs reuse them) and the control-plane binaries
(npm run controlplane:build). Skaffold is not measured: see bench/README.md.`;

const NOT_MEASURED = [
  "Skaffold: its loop is build images, push them to a registry or load them into a local cluster it knows (kind, minikube, Docker Desktop), deploy with kubectl/Helm/kustomize, then a status check. Here there is no registry, Docker Hub is out of reach (images build only from the project's offline base), and the kwok cluster has no container runtime to load images into, so the build-and-push part cannot run; with builds skipped (`skaffold deploy --images ...`) what remains is a kubectl apply plus a status check, which the kubectl runbook already measures. Left out rather than faked.",
  'Real workloads: kwok marks pods Running and Ready without running containers, so image pulls, container start and application readiness (which dominate a real cluster\'s deploy time and would be nearly the same for every tool) are not part of these numbers.',
  'todo-deploy\'s image build and load (`up` without --skip-images): the peers deploy prebuilt images too.',
];

const NAMESPACE_DEADLINE_MS = 300_000;
const RECORD_DEADLINE_MS = 10_000;

interface Options {
  runs: number;
  json?: string;
  markdown?: string;
  tools: ToolId[];
  env: string;
  timeout: number;
  scale: number[];
  scaleRuns: number;
  quickRuns: number;
  failureRuns: number;
  failureCap: number;
  realNode: 'auto' | 'off';
  realRuns: number;
  realTimeout: number;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '3' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      tools: { type: 'string' },
      env: { type: 'string', default: 'dev' },
      timeout: { type: 'string', default: '300' },
      scale: { type: 'string', default: '10,50,100' },
      'scale-runs': { type: 'string', default: '1' },
      'quick-runs': { type: 'string', default: '10' },
      'failure-runs': { type: 'string', default: '1' },
      'failure-cap': { type: 'string', default: '60' },
      'real-node': { type: 'string', default: 'auto' },
      'real-runs': { type: 'string', default: '1' },
      'real-timeout': { type: 'string', default: '180' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number of at least ${min}, not '${text}'.`);
    return n;
  };
  if (values.env !== 'dev' && values.env !== 'prod') throw new Error(`--env must be dev or prod, not '${values.env}'.`);
  if (values['real-node'] !== 'auto' && values['real-node'] !== 'off') throw new Error(`--real-node must be auto or off, not '${values['real-node']}'.`);
  const scale = values.scale === 'none' ? [] : values.scale!.split(',').map((n) => int('scale', n.trim(), 1));
  return {
    runs: int('runs', values.runs!, 1),
    json: values.json,
    markdown: values.markdown,
    tools: parseToolList(values.tools),
    env: values.env!,
    timeout: int('timeout', values.timeout!, 10),
    scale,
    scaleRuns: int('scale-runs', values['scale-runs']!, 1),
    quickRuns: int('quick-runs', values['quick-runs']!, 1),
    failureRuns: int('failure-runs', values['failure-runs']!, 0),
    failureCap: int('failure-cap', values['failure-cap']!, 10),
    realNode: values['real-node'] as 'auto' | 'off',
    realRuns: int('real-runs', values['real-runs']!, 1),
    realTimeout: int('real-timeout', values['real-timeout']!, 30),
  };
}

const log = (line: string) => console.error(`[bench] ${line}`);

/** Set on Ctrl-C/SIGTERM: nothing new starts (no clean-up runs either; the plane is stopped whole). */
let interrupted = false;
class Interrupted extends Error {}

function gitDescribe(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown commit';
  }
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    return `${pretty ?? os.type()}, kernel ${os.release()}`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

interface Ctx {
  plans: Record<ToolId, ToolPlan>;
  env: NodeJS.ProcessEnv;
  cluster: Cluster;
  namespace: string;
  secrets: string[];
  tmp: string;
  timeoutSeconds: number;
  /** The API server's audit log (the tools' requests). */
  auditLog: string;
}

/** Runs one step, again up to its attempts when it fails; the first failure is kept for the report. */
async function runStep(ctx: Ctx, step: Step): Promise<{ record: StepRecord; last: CommandResult; firstOutput?: string }> {
  let first: string | undefined;
  let firstOutput: string | undefined;
  let last: CommandResult | undefined;
  let attempt = 0;
  let firstDisplay: string | undefined;
  const started = process.hrtime.bigint();
  while (attempt < step.attempts) {
    attempt++;
    last = await runCommand(step.program, attempt > 1 && step.retryArgs ? step.retryArgs : step.args, {
      env: ctx.env,
      cwd: REPO_ROOT,
      name: step.name,
      secrets: ctx.secrets,
      replace: [[ctx.tmp, '<tmp>']],
      deadlineMs: (ctx.timeoutSeconds + 60) * 1000,
      maxRss: true,
    });
    firstDisplay ??= last.display;
    if (last.code === 0) break;
    first ??= tail(last.output, 3);
    firstOutput ??= last.output;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const retried = attempt > 1 && step.retryArgs ? { retriedWith: last!.display } : {};
  const rss = last!.maxRssKiB ? { maxRssKiB: last!.maxRssKiB } : {};
  return { record: { display: firstDisplay!, ...retried, ms, code: last!.code, attempts: attempt, maxAttempts: step.attempts, ...(attempt > 1 ? { firstFailure: first } : {}), ...rss }, last: last!, firstOutput };
}

async function runPhase(ctx: Ctx, steps: Step[], run: number): Promise<Sample> {
  const records: StepRecord[] = [];
  const offset = logOffset(ctx.auditLog);
  const started = process.hrtime.bigint();
  let failure: string | undefined;
  let own: string | undefined;
  for (const step of steps) {
    const { record, last } = await runStep(ctx, step);
    records.push(record);
    own ??= selfTimings(last.output);
    if (last.code !== 0) {
      failure = `\`${last.display}\` exited ${last.timedOut ? 'at its deadline' : (last.code ?? last.signal)}: ${tail(last.output, 6)}`;
      break;
    }
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // Untimed: the API server logs a watch when its connection closes, just after the tool exits.
  await new Promise((r) => setTimeout(r, 300));
  const requests = countSince(ctx.auditLog, offset);
  const rss = Math.max(0, ...records.map((r) => r.maxRssKiB ?? 0));
  return { run, ms, ok: failure === undefined, steps: records, failure, load1: os.loadavg()[0], requests, ...(rss ? { maxRssKiB: rss } : {}), ...(own ? { selfTimings: own } : {}) };
}

/** After a failed phase: the tool's own removal, then the namespace by force, so the next tool starts clean. Not timed. */
async function recover(ctx: Ctx, plan: ToolPlan): Promise<void> {
  log(`${plan.id}: cleaning up after the failure`);
  for (const step of plan.phases.down) await runStep(ctx, { ...step, attempts: 1 }).catch(() => undefined);
  const kubectl = ctx.plans.kubectl.startup.program;
  await runCommand(kubectl, ['delete', 'namespace', ctx.namespace, '--ignore-not-found', '--wait', '--timeout=120s'], { env: ctx.env, name: 'kubectl' }).catch(() => undefined);
  await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
}

/** Waits until the recorder saw every stack object `type`d, then fills in the sample's order fields. */
async function recordOrder(sample: Sample, rec: ReturnType<typeof recordStack>, type: 'ADDED' | 'DELETED', expected: number): Promise<void> {
  await rec.until((events) => objectsWith(events, type) >= expected, RECORD_DEADLINE_MS);
  sample.objects = objectsWith(rec.events, type);
  sample.inversions = orderInversions(rec.events, type);
  sample.sequence = kindSequence(rec.events, type);
}

async function cold(ctx: Ctx, plan: ToolPlan, run: number): Promise<Sample> {
  await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
  const rec = recordStack(ctx.cluster);
  try {
    await rec.ready;
    const sample = await runPhase(ctx, plan.phases.cold, run);
    if (sample.ok) {
      const expected = (await stackSnapshot(ctx.cluster)).size;
      await recordOrder(sample, rec, 'ADDED', expected);
    }
    return sample;
  } finally {
    rec.stop();
  }
}

/** A deploy over a deployed stack ((2) warm, (3) change): what it wrote is read around it. */
const redeploy = (phase: 'warm' | 'change') => async (ctx: Ctx, plan: ToolPlan, run: number): Promise<Sample> => {
  const stackBefore = await stackSnapshot(ctx.cluster);
  const recordsBefore = await recordsSnapshot(ctx.cluster);
  const sample = await runPhase(ctx, plan.phases[phase], run);
  sample.stackChanges = diffSnapshots(stackBefore, await stackSnapshot(ctx.cluster));
  sample.recordChanges = diffSnapshots(recordsBefore, await recordsSnapshot(ctx.cluster));
  return sample;
};

async function down(ctx: Ctx, plan: ToolPlan, run: number): Promise<Sample> {
  const expected = (await stackSnapshot(ctx.cluster)).size;
  const rec = recordStack(ctx.cluster);
  try {
    await rec.ready;
    const sample = await runPhase(ctx, plan.phases.down, run);
    if (sample.ok) {
      if (await namespaceExists(ctx.cluster, ctx.namespace)) {
        const left = Date.now();
        await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
        sample.namespaceGoneAfterMs = Date.now() - left;
      }
      await recordOrder(sample, rec, 'DELETED', expected);
    }
    return sample;
  } finally {
    rec.stop();
  }
}

/**
 * Plain kubectl has no ordering: it applies in file order. The runbook's folder keeps the
 * manifest files' names (namespace first), so it needs one apply; this probe applies the same
 * objects kept one file per object (<kind>-<name>.yaml), where the namespace sorts late, and
 * reports what a person then sees. Timed, but not part of the table.
 */
async function orderingProbe(ctx: Ctx, dir: string, objects: number): Promise<Probe> {
  await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
  const kubectl = ctx.plans.kubectl.startup.program;
  const apply = await runStep(ctx, { name: 'kubectl', program: kubectl, args: ['apply', '--server-side', '-f', dir], attempts: 3 });
  const remove = await runStep(ctx, { name: 'kubectl', program: kubectl, args: ['delete', '-f', dir, '--wait', `--timeout=${ctx.timeoutSeconds}s`], attempts: 3 });
  await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
  const errors = (apply.firstOutput ?? '').split('\n').filter((l) => /^(Error|error)\b/.test(l));
  const outcome =
    apply.record.attempts === 1 && apply.record.code === 0
      ? 'one apply created every object: no ordering failure.'
      : `the first apply refused ${errors.length} of ${objects} objects (e.g. "${errors[0] ?? tail(apply.firstOutput ?? '', 1)}") and exited non-zero; ` +
        (apply.record.code === 0 ? `apply number ${apply.record.attempts} created the rest, so a person runs it ${apply.record.attempts} times.` : `it still failed after ${apply.record.attempts} applies.`);
  return {
    title: 'Ordering probe: kubectl with one file per object',
    description:
      `kubectl applies files in name order and has no notion of dependencies. The runbook above keeps the manifests' own file names (00-namespace.yaml first; the Dapr CRDs come with the cluster's Dapr install), so its single apply worked. ` +
      `Here the same ${objects} objects are kept one file per object, named <kind>-<name>.yaml, so the Namespace sorts after the Components, Configurations, Deployments and the Ingress that live in it.`,
    steps: [apply.record, remove.record],
    outcome,
  };
}

/** The peers of (5): the issue names Helm's and kubectl's waits (kapp would wait out its own 15 minutes the same way). */
const FAILURE_TOOLS: readonly ToolId[] = ['todo-deploy', 'kubectl', 'helm'];
const CRASH_REASON = 'CrashLoopBackOff';

/** True when a pod of the list has a container waiting with the reason. Pure. */
function showsWaiting(pods: KubeObject[], reason: string): boolean {
  return pods.some((p) => [...((p.status?.containerStatuses as any[]) ?? []), ...((p.status?.initContainerStatuses as any[]) ?? [])].some((c) => c?.state?.waiting?.reason === reason));
}

/**
 * (5) One tool deploys the crashing stack into the absent namespace. The benchmark's own watch
 * on the namespace's pods notes the first CrashLoopBackOff; the tool's steps run until one
 * fails or the cap; then the tool's removal and a namespace delete clean up (untimed).
 */
async function failureRun(ctx: Ctx, plan: ToolPlan, run: number, capSeconds: number): Promise<FailureSample> {
  await waitNamespaceGone(ctx.cluster, ctx.namespace, NAMESPACE_DEADLINE_MS);
  const started = Date.now();
  const capAt = started + capSeconds * 1000;
  let crashAt: number | undefined;
  let sampleEnd = started;
  const stopWatch = new AbortController();
  const watching = watchUntil(ctx.cluster, { kind: KINDS.Pod.ref, namespace: ctx.namespace }, (pods) => ({ done: showsWaiting(pods, CRASH_REASON) }), {
    deadline: capAt + 60_000,
    goal: `a pod of namespace ${ctx.namespace} in ${CRASH_REASON}`,
    signal: stopWatch.signal,
  }).then(
    () => void (crashAt = Date.now()),
    () => undefined,
  );
  let last: CommandResult | undefined;
  let capped = false;
  try {
    for (const step of plan.phases.cold) {
      const left = capAt - Date.now();
      if (left <= 0) {
        capped = true;
        break;
      }
      last = await runCommand(step.program, step.args, { env: ctx.env, cwd: REPO_ROOT, name: step.name, secrets: ctx.secrets, replace: [[ctx.tmp, '<tmp>']], deadlineMs: left, maxRss: true });
      if (last.timedOut) capped = true;
      if (last.code !== 0) break;
    }
  } finally {
    // A crash may show only after a tool gave up early: the watch gets a moment more to see it.
    const exitAt = capped ? Math.min(Date.now(), capAt) : Date.now();
    await Promise.race([watching, new Promise((r) => setTimeout(r, 2000))]);
    stopWatch.abort();
    sampleEnd = exitAt;
  }
  await recover(ctx, plan);
  return {
    run,
    ...(crashAt !== undefined ? { crashAfterMs: crashAt - started } : {}),
    exitAfterMs: sampleEnd - started,
    code: capped ? null : (last?.code ?? null),
    capped,
    output: last ? tail(last.output, 6) : '',
    ...(last?.maxRssKiB ? { maxRssKiB: last.maxRssKiB } : {}),
  };
}

/** Each tool's (empty) record of the phases, with the commands it runs. */
function toolResults(plans: Record<ToolId, ToolPlan>, ids: readonly ToolId[], versionOf: Record<ToolId, string>, tmp: string): ToolResult[] {
  return ids.map((id) => ({
    id,
    version: versionOf[id],
    waitsFor: plans[id].waitsFor,
    commands: Object.fromEntries(PHASES.map((p) => [p, plans[id].phases[p].map((s) => runCommandDisplay(s, tmp))])) as Record<PhaseId, string[]>,
    phases: { cold: [], warm: [], change: [], down: [] },
    startup: [],
    startupCommand: runCommandDisplay(plans[id].startup, tmp),
  }));
}

/**
 * (1)-(4): in each run every tool in turn does its start-up command, cold, warm, change and
 * down; each run starts with the next tool. A failed phase is cleaned up and that tool's run
 * ends; with stopOnFailure nothing more runs (the real node: a stack that does not come up
 * would only wait out every tool's deadline). Returns the failure that stopped it, if any.
 */
async function runTools(ctx: Ctx, plans: Record<ToolId, ToolPlan>, results: ToolResult[], runs: number, options: { label?: string; stopOnFailure?: boolean } = {}): Promise<string | undefined> {
  const label = options.label ?? '';
  for (let run = 1; run <= runs; run++) {
    // Each run starts with the next tool, so no tool always goes first (or right after another).
    const shift = (run - 1) % results.length;
    for (const result of [...results.slice(shift), ...results.slice(0, shift)]) {
      const plan = plans[result.id];
      if (interrupted) throw new Interrupted('interrupted');
      const start = await runStep(ctx, plan.startup);
      result.startup.push(start.record.ms);
      for (const phase of PHASES) {
        const sample = await PHASE_RUNNERS[phase](ctx, plan, run);
        if (interrupted) throw new Interrupted('interrupted');
        result.phases[phase].push(sample);
        const extra = [
          sample.stackChanges ? `${sample.stackChanges.changed.length + sample.stackChanges.added.length + sample.stackChanges.removed.length} stack object(s) written` : '',
          sample.steps.some((s) => s.attempts > 1) ? 'needed a second attempt' : '',
        ].filter(Boolean);
        log(`${label}run ${run}/${runs} ${result.id} ${phase}: ${sample.ok ? seconds(sample.ms) : `FAILED after ${seconds(sample.ms)}: ${sample.failure}`}${extra.length ? ` (${extra.join(', ')})` : ''}`);
        if (!sample.ok) {
          await recover(ctx, plan);
          if (options.stopOnFailure) return `${result.id} ${phase} (run ${run}) failed: ${sample.failure}`;
          break;
        }
      }
    }
  }
  return undefined;
}

const PHASE_RUNNERS: Record<PhaseId, (ctx: Ctx, plan: ToolPlan, run: number) => Promise<Sample>> = { cold, warm: redeploy('warm'), change: redeploy('change'), down };

/** A rendered variant of the stack in the temporary folder: the files for kubectl and kapp, the chart for Helm. */
function writeVariant(rendered: RenderedStack, dir: string, manifestsDir?: string): Variant {
  const renderedDir = path.join(dir, 'rendered');
  const chartDir = path.join(dir, 'chart');
  writeRendered(rendered.plan, renderedDir);
  writeChart(rendered.plan, chartDir);
  return { renderedDir, chartDir, ...(manifestsDir ? { manifestsDir } : {}) };
}

const SKIPPED_FAILURE = '(5) failure detection (time from the first CrashLoopBackOff to a non-zero exit)';
const SKIPPED_REAL_NODE = '(8) (1)–(4) on the real node with real pods';

/** Scenarios that cannot run yet, and why (checked again whenever they are added). */
const SKIPPED: SkippedScenario[] = [
  {
    scenario: '(7) kube-linter',
    reason: 'its module (golang.stackrox.io/kube-linter) is not served by the Go module proxy this machine reaches, so it cannot be built here; kube-score is measured instead.',
  },
];

/** Each short command `runs` times, interleaved (one of each per round). */
async function quickCommands(commands: Array<Omit<QuickCommand, 'ms' | 'codes' | 'maxRssKiB'> & { program: string; args: string[] }>, runs: number, env: NodeJS.ProcessEnv, secrets: string[], tmp: string): Promise<QuickCommand[]> {
  const out = commands.map((c) => ({ tool: c.tool, what: c.what, display: c.display, ms: [] as number[], codes: [] as number[], maxRssKiB: [] as number[] }));
  for (let round = 0; round < runs; round++) {
    for (const [i, c] of commands.entries()) {
      if (interrupted) throw new Interrupted('interrupted');
      const r = await runCommand(c.program, c.args, { env, cwd: REPO_ROOT, secrets, replace: [[tmp, '<tmp>']], deadlineMs: 120_000, maxRss: true });
      out[i]!.ms.push(r.ms);
      out[i]!.codes.push(r.code ?? -1);
      if (r.maxRssKiB) out[i]!.maxRssKiB.push(r.maxRssKiB);
    }
  }
  return out;
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see npm run bench -- --help)`);
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const began = Date.now();
  const loadAtStart = os.loadavg();
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  log(`${command}: ${options.runs} run(s) of ${options.tools.join(', ')}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);

  const box = await ensureTools({ log });
  log(describeToolVersions(box.versions));
  for (const t of Object.values(box.tools)) log(`${t.tool}: ${t.version} (build ${t.buildSeconds} s${t.fromCache ? ', reused' : ''})`);

  // The environment every tool gets: the control plane's kubeconfig, the test secrets,
  // Helm's folders inside the temporary folder, no colours.
  const env: NodeJS.ProcessEnv = { ...process.env, ...BENCH_SECRETS, FORCE_COLOR: '0', NO_COLOR: '1' };
  delete env.DATABASE_URL;
  delete env.KUBECONFIG;
  const rendered = renderStack(REPO_ROOT, options.env, env);
  const secrets = Object.values(rendered.secrets.values).filter((v) => v !== '');

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'todo-deploy-bench-'));
  chmodSync(tmp, 0o700);
  let plane: ControlPlane | undefined;
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.on('exit', removeTmp);
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    interrupted = true;
    log(`${signal}: stopping the running command and the control plane, removing the temporary folder`);
    killRunning('SIGKILL');
    removeTmp();
    // The control plane's own signal hook stops it and exits; without a plane, exit here.
    if (!plane) process.exit(code);
    void plane.stop().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));

  try {
    const stack = writeVariant(rendered, tmp);
    const { renderedDir } = stack;
    // (3): the backend's image tag moved on by one patch release, for every tool alike.
    const backendImage = `${rendered.config.images.backend}:${nextTag(rendered.config.imageTag)}`;
    const changedManifests = writeChangedManifests(path.join(REPO_ROOT, 'manifests'), path.join(tmp, 'changed', 'manifests'), backendImage);
    const changed = writeVariant(renderStack(REPO_ROOT, options.env, env, changedManifests), path.join(tmp, 'changed'), changedManifests);
    for (const d of ['cache', 'config', 'data']) mkdirSync(path.join(tmp, 'helm', d), { recursive: true });
    Object.assign(env, { HELM_CACHE_HOME: path.join(tmp, 'helm', 'cache'), HELM_CONFIG_HOME: path.join(tmp, 'helm', 'config'), HELM_DATA_HOME: path.join(tmp, 'helm', 'data') });
    log(`rendered ${rendered.objects.length} objects (${options.env}, namespace ${rendered.config.namespace}) into a private temporary folder, and the same with ${backendImage}`);

    // Start-up and (7) validate, before the control plane runs (nothing else competes for the cores).
    const kubeScore = await ensureKubeScore(log).catch((err: Error) => {
      log(`kube-score could not be built, so (7) has no peer: ${err.message}`);
      return undefined;
    });
    const launcher = path.join(REPO_ROOT, 'scripts', 'bundle', 'todo-deploy.mjs');
    const node = process.execPath;
    const files = readdirSync(renderedDir).map((f) => path.join(renderedDir, f));
    const quickList = [
      { tool: 'todo-deploy', what: 'start-up through npm', display: 'npm run -s up -- --help', program: 'npm', args: ['run', '-s', 'up', '--', '--help'] },
      { tool: 'todo-deploy', what: 'start-up, the script alone', display: 'node scripts/bundle/todo-deploy.mjs up --help', program: node, args: [launcher, 'up', '--help'] },
      { tool: 'kubectl', what: 'start-up', display: 'kubectl version --client', program: box.tools.kubectl.path, args: ['version', '--client'] },
      { tool: 'helm', what: 'start-up', display: 'helm version', program: box.tools.helm.path, args: ['version'] },
      { tool: 'kapp', what: 'start-up', display: 'kapp version', program: box.tools.kapp.path, args: ['version'] },
      { tool: 'todo-deploy', what: '(7) validate through npm', display: `npm run -s validate -- --env ${options.env}`, program: 'npm', args: ['run', '-s', 'validate', '--', '--env', options.env] },
      { tool: 'todo-deploy', what: '(7) validate, the script alone', display: `node scripts/bundle/todo-deploy.mjs validate --env ${options.env}`, program: node, args: [launcher, 'validate', '--env', options.env] },
      ...(kubeScore ? [{ tool: 'kube-score', what: `(7) score the rendered files (${kubeScore.version})`, display: 'kube-score score <tmp>/rendered/*.yaml', program: kubeScore.path, args: ['score', ...files] }] : []),
    ].filter((c) => c.tool === 'kube-score' || options.tools.includes(c.tool as ToolId));
    log(`start-up and validate: ${options.quickRuns} interleaved round(s) of ${quickList.length} commands`);
    const quick = await quickCommands(quickList, options.quickRuns, { ...env, KUBECONFIG: '/dev/null' }, secrets, tmp);

    const audit = writeAuditPolicy(tmp);
    plane = await startControlPlane({ log: (l) => log(l), apiserverExtraArgs: audit.args });
    const cluster = clusterFromKubeConfig(plane.kc);
    // The tools run as a ServiceAccount of their own, so the audit log counts their requests alone.
    env.KUBECONFIG = await writeToolKubeconfig(cluster, readFileSync(path.join(plane.dir, 'pki', 'apiserver.crt'), 'utf8'), path.join(tmp, 'tool.kubeconfig'));
    await installDaprStandIn(cluster);
    log('Dapr control-plane stand-in ready in dapr-system');
    const custom = ['Configuration', 'Component'].map((k) => rendered.objects.find((o) => o.kind === k)).filter((o) => o !== undefined);
    const settle = await settleGarbageCollector(cluster, custom);
    log(`settled: the garbage collector finished a foreground delete of a Dapr Configuration and Component in ${seconds(settle.foregroundMs)}`);

    const bin = { kubectl: box.tools.kubectl.path, helm: box.tools.helm.path, kapp: box.tools.kapp.path };
    const plans = toolPlans({ repoRoot: REPO_ROOT, env: options.env, namespace: rendered.config.namespace, bin, ...stack, changed, timeoutSeconds: options.timeout });
    const ctx: Ctx = { plans, env, cluster, namespace: rendered.config.namespace, secrets, tmp, timeoutSeconds: options.timeout, auditLog: audit.log };
    const versionOf: Record<ToolId, string> = {
      'todo-deploy': `${JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version} (${gitDescribe()})`,
      kubectl: box.tools.kubectl.version.replace(/^Client Version:\s*/, ''),
      helm: box.tools.helm.version,
      kapp: box.tools.kapp.version.replace(/^kapp version\s*/, ''),
    };
    const results = toolResults(plans, options.tools, versionOf, tmp);
    await runTools(ctx, plans, results, options.runs);

    const probes: Probe[] = [];
    if (options.tools.includes('kubectl')) {
      const perObject = path.join(tmp, 'per-object');
      writePerObject(rendered.plan, perObject);
      const probe = await orderingProbe(ctx, perObject, rendered.objects.length);
      log(`ordering probe (kubectl, one file per object): ${probe.outcome}`);
      probes.push(probe);
    }

    // (5) Failure detection: the stack with the backend's pods crashing, capped.
    let failure: FailureScenario | undefined;
    const failureTools = FAILURE_TOOLS.filter((id) => options.tools.includes(id));
    if (options.failureRuns > 0 && failureTools.length > 0) {
      const manifests = writeCrashingManifests(path.join(REPO_ROOT, 'manifests'), path.join(tmp, 'crashing', 'manifests'));
      const variant = writeVariant(renderStack(REPO_ROOT, options.env, env, manifests), path.join(tmp, 'crashing'), manifests);
      // Helm and kubectl with the five-minute timeouts the issue names; the cap ends them earlier.
      const crashPlans = toolPlans({ repoRoot: REPO_ROOT, env: options.env, namespace: rendered.config.namespace, bin, ...variant, timeoutSeconds: 300 });
      failure = {
        capSeconds: options.failureCap,
        what: `The stack with the backend Deployment's pods annotated \`todo-deploy.test/fail-as: CrashLoopBackOff\`: the control plane's kwok then shows each backend container as a kubelet shows one that keeps exiting (Running, then waiting in CrashLoopBackOff after exiting 1, with a warning event).`,
        tools: failureTools.map((id) => ({ id, commands: crashPlans[id].phases.cold.map((s) => runCommandDisplay(s, tmp)), samples: [] })),
      };
      for (let run = 1; run <= options.failureRuns; run++) {
        const shift = (run - 1) % failure.tools.length;
        for (const entry of [...failure.tools.slice(shift), ...failure.tools.slice(0, shift)]) {
          if (interrupted) throw new Interrupted('interrupted');
          const sample = await failureRun(ctx, crashPlans[entry.id], run, options.failureCap);
          entry.samples.push(sample);
          const d = sample.crashAfterMs === undefined ? 'no CrashLoopBackOff seen' : `${seconds(sample.exitAfterMs - sample.crashAfterMs)} after the first CrashLoopBackOff`;
          log(`(5) run ${run} ${entry.id}: ${sample.capped ? `stopped at the cap (${options.failureCap} s)` : `exited ${sample.code} after ${seconds(sample.exitAfterMs)}`}, ${d}`);
        }
      }
    }

    // (6) Scale: the stack plus n generated components, cold deploy and down per tool.
    const scale: ScalePoint[] = [];
    for (const n of options.scale) {
      const manifests = writeScaledManifests(path.join(REPO_ROOT, 'manifests'), path.join(tmp, `scale-${n}`, 'manifests'), n);
      const scaled = renderStack(REPO_ROOT, options.env, env, manifests);
      const variant = writeVariant(scaled, path.join(tmp, `scale-${n}`), manifests);
      const scalePlans = toolPlans({ repoRoot: REPO_ROOT, env: options.env, namespace: rendered.config.namespace, bin, ...variant, timeoutSeconds: options.timeout });
      const point: ScalePoint = { n, objects: scaled.objects.length, deployments: scaled.objects.filter((o) => o.kind === 'Deployment').length, tools: options.tools.map((id) => ({ id, cold: [], down: [] })) };
      scale.push(point);
      log(`(6) scale +${n}: ${point.objects} objects, ${point.deployments} Deployments`);
      for (let run = 1; run <= options.scaleRuns; run++) {
        const shift = (run - 1) % point.tools.length;
        for (const entry of [...point.tools.slice(shift), ...point.tools.slice(0, shift)]) {
          if (interrupted) throw new Interrupted('interrupted');
          const plan = scalePlans[entry.id];
          const up = await cold(ctx, plan, run);
          entry.cold.push(up);
          log(`(6) +${n} run ${run} ${entry.id} cold: ${up.ok ? seconds(up.ms) : `FAILED: ${up.failure}`}`);
          if (!up.ok) {
            await recover(ctx, plan);
            continue;
          }
          const gone = await down(ctx, plan, run);
          entry.down.push(gone);
          log(`(6) +${n} run ${run} ${entry.id} down: ${gone.ok ? seconds(gone.ms) : `FAILED: ${gone.failure}`}`);
          if (!gone.ok) await recover(ctx, plan);
        }
      }
    }

    // (8) (1)-(4) on the real node: the simulated cluster is stopped first (its work is done).
    const controlPlane = describeVersions(plane.versions);
    const realNodeScenario = async (): Promise<RealNodeScenario> => {
      const began8 = Date.now();
      const dir = path.join(tmp, 'real');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const realAudit = writeAuditPolicy(dir);
      log('(8) starting the control plane with a real node');
      const realPlane = await startControlPlane({ pods: 'real', log: (l) => log(l), apiserverExtraArgs: realAudit.args });
      plane = realPlane;
      const realCluster = clusterFromKubeConfig(realPlane.kc);
      const realEnv: NodeJS.ProcessEnv = { ...env, KUBECONFIG: await writeToolKubeconfig(realCluster, readFileSync(path.join(realPlane.dir, 'pki', 'apiserver.crt'), 'utf8'), path.join(dir, 'tool.kubeconfig')) };
      const changedTag = nextTag(REAL_NODE_TAG);
      const images = tagImages(rendered.config, REAL_NODE_TAG, changedTag);
      try {
        log(`(8) images: ${Object.values(images.sources).join(', ')} tagged ${REAL_NODE_TAG}; importing into the node`);
        const mb = await loadIntoNode(realPlane.node!, images.refs, (l) => log(`(8) ${l}`));
        await installDaprStandIn(realCluster, 300_000, imageRefs(realPlane.versions).pause);
        const flags = { IMAGE_TAG: REAL_NODE_TAG };
        const realRendered = renderStack(REPO_ROOT, options.env, env, undefined, flags);
        const realSettle = await settleGarbageCollector(realCluster, custom);
        log(`(8) settled in ${seconds(realSettle.foregroundMs)}`);
        const realStack = writeVariant(realRendered, path.join(dir, 'stack'));
        const realChangedManifests = writeChangedManifests(path.join(REPO_ROOT, 'manifests'), path.join(dir, 'changed', 'manifests'), `${rendered.config.images.backend}:${changedTag}`);
        const realChanged = writeVariant(renderStack(REPO_ROOT, options.env, env, realChangedManifests, flags), path.join(dir, 'changed'), realChangedManifests);
        const realPlans = toolPlans({ repoRoot: REPO_ROOT, env: options.env, namespace: rendered.config.namespace, bin, ...realStack, changed: realChanged, timeoutSeconds: options.realTimeout, upArgs: ['--image-tag', REAL_NODE_TAG] });
        const realCtx: Ctx = { plans: realPlans, env: realEnv, cluster: realCluster, namespace: rendered.config.namespace, secrets, tmp, timeoutSeconds: options.realTimeout, auditLog: realAudit.log };
        const realResults = toolResults(realPlans, options.tools, versionOf, tmp);
        const setupSeconds = Math.round((Date.now() - began8) / 1000);
        const stopped = await runTools(realCtx, realPlans, realResults, options.realRuns, { label: '(8) ', stopOnFailure: true });
        return { controlPlane: describeVersions(realPlane.versions), objects: realRendered.objects.length, images: images.sources, imageTag: REAL_NODE_TAG, imageMB: mb, setupSeconds, timeoutSeconds: options.realTimeout, tools: realResults, ...(stopped ? { stopped } : {}) };
      } finally {
        untagImages(images.refs);
      }
    };
    let realNode: RealNodeScenario | undefined;
    let realSkip = options.realNode === 'off' ? 'skipped with --real-node off.' : realNodeUnavailable();
    if (realSkip) log(`(8) not run: ${realSkip}`);
    else {
      await plane.stop();
      plane = undefined;
      try {
        realNode = await realNodeScenario();
      } catch (err) {
        if (err instanceof Interrupted) throw err;
        // The other scenarios' results stand; the report says why (8) has none.
        realSkip = `it could not run here: ${mask((err as Error).message, secrets, [[tmp, '<tmp>']]).split('\n')[0]}`;
        log(`(8) failed: ${realSkip}`);
        if (plane) await (plane as ControlPlane).stop();
        plane = undefined;
      }
    }

    const bench: BenchResult = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      command,
      runs: options.runs,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', memGiB: Math.round(os.totalmem() / 2 ** 30), os: osName(), loadAtStart, loadAtEnd: os.loadavg() },
      node: process.version,
      controlPlane,
      builds: Object.values(box.tools).map((t) => ({ tool: t.tool, version: t.version, seconds: t.buildSeconds, fromCache: t.fromCache })),
      objects: rendered.objects.length,
      tools: results,
      probes,
      settleSeconds: Math.round(settle.foregroundMs / 100) / 10,
      notMeasured: NOT_MEASURED,
      quick,
      scale,
      ...(failure ? { failure } : {}),
      ...(realNode ? { realNode } : {}),
      skipped: [
        ...(failure ? [] : [{ scenario: SKIPPED_FAILURE, reason: options.failureRuns === 0 ? 'skipped with --failure-runs 0.' : 'none of todo-deploy, kubectl and helm was among --tools.' }]),
        ...(realSkip ? [{ scenario: SKIPPED_REAL_NODE, reason: `${realSkip}${/\.$/.test(realSkip) ? '' : '.'} Every number above is on kwok-simulated pods.` }] : []),
        ...SKIPPED,
      ],
      totalSeconds: 0,
      failed:
        [...results, ...(realNode?.tools ?? [])].some((r) => PHASES.some((p) => r.phases[p].some((s) => !s.ok))) ||
        scale.some((p) => p.tools.some((t) => [...t.cold, ...t.down].some((s) => !s.ok))),
    };
    await plane?.stop();
    plane = undefined;
    bench.totalSeconds = Math.round((Date.now() - began) / 1000);
    console.log(`${resultsTable(bench)}\n\n${ratioTable(bench)}`);
    if (options.json) writeFileSync(options.json, JSON.stringify(bench, null, 2) + '\n');
    if (options.markdown) writeFileSync(options.markdown, markdownReport(bench));
    for (const f of [options.json, options.markdown]) if (f) log(`wrote ${f}`);
    return bench.failed ? 1 : 0;
  } finally {
    killRunning('SIGKILL');
    if (plane) await plane.stop();
    removeTmp();
    if (existsSync(tmp)) log('could not remove the temporary folder');
  }
}

/** The command as reports show it: the program's name, the temporary folder as <tmp>. */
function runCommandDisplay(step: Step, tmp: string): string {
  return mask(displayCommand(step.name, step.args), [], [[tmp, '<tmp>']]);
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof Interrupted) return; // the signal handler exits once the plane is stopped
    console.error(`bench: ${err.message}`);
    // Bad options are a UsageError: exit 2, as the project's other commands do.
    process.exit(exitCodeOf(err));
  },
);
