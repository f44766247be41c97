// The task tree of `up`: configuration, rendering and policy (no cluster touched), then the
// cluster, the images, and the ten stages of the creation order, each applied together and
// gated before the next begins.
import type { ListrTask, ListrTaskWrapper } from 'listr2';
import { loadConfig, type Config, type SettingKey } from '../config.ts';
import { buildSecrets, type Secrets } from '../secrets.ts';
import { ensureDevAuthSecret } from '../dev-secret.ts';
import { redact, registerSecretValues } from '../output.ts';
import { buildImages, nodeImageFrom, referencedImages } from '../images/index.ts';
import { selectProvider } from '../cluster/index.ts';
import { ensureDapr } from '../cluster/dapr.ts';
import type { ClusterAddress, ClusterContext, ClusterProvider, ClusterTarget, ProviderName } from '../cluster/provider.ts';
import { buildPlan, defaultImageRefs, type Plan } from '../plan.ts';
import type { ImageRefs } from '../types.ts';
import { objectRef, STAGES, type PlannedStage, type Stage } from '../order.ts';
import { checkReachable, loadKubeConfig, type Cluster } from '../kube/client.ts';
import { applyError, applyObject } from '../kube/apply.ts';
import { watchUntil, GateFailed, GateTimeout } from '../kube/watch.ts';
import { endpointGate, gatesFor, servesPods, type Gate } from '../readiness.ts';
import { diagnoseDeployment } from '../kube/diagnose.ts';
import { DeployError, UsageError } from '../errors.ts';
import { planNamespace } from '../ownership.ts';
import { listObjects } from '../kube/apply.ts';
import { manifestFiles } from '../manifests.ts';
import { policyGate } from '../policy/gate.ts';
import { formatText } from '../policy/format/text.ts';
import path from 'node:path';
import { formatDuration, runWithTimings, timed, type Timing } from './render.ts';
import { answeredByLists, changesOf, isUnchanged, type Changes } from '../changes.ts';
import { summarize } from '../diff.ts';
import { FIELD_MANAGER } from '../kube/apply.ts';
import { listKind, readLive } from '../kube/live.ts';
import { KINDS } from '../kinds.ts';
import { providerContext } from '../cluster/context.ts';

export interface UpOptions {
  env: string;
  repoRoot: string;
  manifestsDir: string;
  /** --cluster; undefined: the environment's default (minikube for dev, current for prod). */
  clusterProvider?: ProviderName;
  context?: string;
  skipImages: boolean;
  flags: Partial<Record<SettingKey, string>>;
  signal?: AbortSignal;
}

export interface UpContext {
  /** Set when the namespace exists and is the user's: deployed into, never applied (lib/ownership.ts). */
  usersNamespace?: string;
  config?: Config;
  secrets?: Secrets;
  refs?: ImageRefs;
  plan?: Plan;
  cluster?: Cluster;
  provider?: ClusterProvider;
  target?: ClusterTarget;
  /** Where the app is reachable, from the provider, once the stages are done. */
  address?: ClusterAddress;
  /** The plan against the live objects: what needs no apply, and the lists that answer gates. */
  changes?: Changes;
  timings: Timing[];
}

/** Applies the given objects of one stage together; the first rejection names its object and line. */
async function applyStage(cluster: Cluster, objects: PlannedStage['objects']): Promise<void> {
  await Promise.all(
    objects.map(async (s) => {
      try {
        await applyObject(cluster, s.object);
      } catch (err) {
        throw applyError(cluster, s.object, `${s.file}:${s.line}`, err);
      }
    }),
  );
}

/** Waits on one gate, showing progress in the task title; explains a failed Deployment. */
async function runGate(cluster: Cluster, gate: Gate, deadline: number, task: ListrTaskWrapper<UpContext, any, any>, signal?: AbortSignal): Promise<void> {
  try {
    await watchUntil(cluster, gate.target, gate.evaluate, {
      deadline,
      goal: gate.goal,
      signal,
      onProgress: (text) => {
        task.title = text;
      },
    });
  } catch (err) {
    if ((err instanceof GateTimeout || err instanceof GateFailed) && gate.subject.kind === 'Deployment') {
      const diagnosis = await diagnoseDeployment(cluster, gate.subject).catch((e: Error) => `(diagnosis failed: ${e.message})`);
      throw new DeployError(`${err.message}\n${diagnosis}`);
    }
    if (err instanceof GateTimeout && gate.subject.kind === 'Ingress') {
      throw new DeployError(`${err.message} No ingress controller published an address. Fix: make sure an ingress controller for class nginx runs (minikube addons enable ingress).`);
    }
    throw err;
  }
}

function gateTasks(ctx: UpContext, gates: Gate[], deadline: number, signal?: AbortSignal): ListrTask<UpContext>[] {
  return gates.map((gate) => ({
    title: gate.title,
    task: (_c, task) => runGate(ctx.cluster!, gate, deadline, task, signal),
  }));
}

/** The gates of a stage. After the Deployments roll out, every pod-backed Service must answer before the Ingress. */
function stageGates(ctx: UpContext, planned: PlannedStage): Gate[] {
  const gates = planned.objects.flatMap((o) => gatesFor(o.object));
  if (planned.stage.id !== 'deployments') return gates;
  const services = ctx.plan!.stages.flatMap((p) => p.objects).filter((o) => o.object.kind === 'Service' && servesPods(o.object));
  return [...gates, ...services.map((o) => endpointGate(o.object))];
}

/** Stage tasks are built before the plan exists; each finds its objects when it runs. */
function stageTask(ctx: UpContext, stage: Stage, signal?: AbortSignal): ListrTask<UpContext> {
  const title = `Stage ${stage.number}/${STAGES.length} ${stage.title}`;
  return {
    title,
    task: async (_c, task) => {
      const planned = ctx.plan!.stages.find((p) => p.stage === stage)!;
      const objects = planned.objects;
      if (objects.length === 0) {
        task.skip(`${title}: no objects`);
        return;
      }
      if (stage.id === 'namespace' && ctx.usersNamespace) {
        task.skip(`${title}: ${ctx.usersNamespace}`);
        return;
      }
      const start = Date.now();
      // Only what changed is applied; a gate the lists already answer (its object unchanged and
      // ready when listed) needs no watch. Every other gate is waited for as always.
      const changes = ctx.changes;
      const toApply = changes ? objects.filter((o) => !isUnchanged(changes, o.object)) : objects;
      const deploymentsChanged = !changes || ctx.plan!.stages.some((p) => p.objects.some((o) => o.object.kind === 'Deployment' && !isUnchanged(changes, o.object)));
      if (changes && planned.stage.id === 'deployments' && !deploymentsChanged) {
        // The endpoint gates from one list of the namespace's EndpointSlices instead of a watch each.
        changes.lists.push(await listKind(ctx.cluster!, KINDS.EndpointSlice.ref, ctx.config!.namespace, { selector: false }));
      }
      // An endpoint gate also needs every Deployment unchanged: a new rollout changes the endpoints.
      const answered = (g: Gate) => !!changes && isUnchanged(changes, g.subject) && (g.subject.kind !== 'Service' || !deploymentsChanged) && answeredByLists(g, changes.lists);
      const allGates = stageGates(ctx, planned);
      const gates = allGates.filter((g) => !answered(g));
      const fromLists = allGates.length - gates.length;
      const rollouts = gates.filter((g) => g.subject.kind !== 'Service');
      const endpoints = gates.filter((g) => g.subject.kind === 'Service');
      try {
        await task
          .newListr<UpContext>(
            [
              {
                title: toApply.length ? `apply ${toApply.map((o) => objectRef(o.object)).join(', ')}` : `unchanged: ${objects.length} object(s) already as planned`,
                task: () => applyStage(ctx.cluster!, toApply),
              },
              {
                title: fromLists > 0 && gates.length === 0 ? `ready: ${fromLists} gate(s) answered by the listed objects` : 'present: the API server stored every object',
                enabled: fromLists > 0 && gates.length === 0,
                task: () => {},
              },
              {
                title: gates.length ? `wait until ready${fromLists ? ` (${fromLists} more answered by the listed objects)` : ''}` : 'present: the API server stored every object',
                enabled: gates.length > 0,
                task: (_c2, t) => {
                  const deadline = Date.now() + ctx.config!.readyTimeoutSeconds * 1000;
                  return t.newListr(
                    [
                      { title: 'rollouts', enabled: rollouts.length > 0, task: (_c3, t3) => t3.newListr(gateTasks(ctx, rollouts, deadline, signal), { concurrent: true }) },
                      { title: 'service endpoints', enabled: endpoints.length > 0, task: (_c3, t3) => t3.newListr(gateTasks(ctx, endpoints, deadline, signal), { concurrent: true }) },
                    ],
                    { concurrent: false },
                  );
                },
              },
            ],
            { concurrent: false },
          )
          .run(ctx);
      } finally {
        const ms = Date.now() - start;
        ctx.timings.push({ title: `${stage.number}. ${stage.title}`, ms });
        task.title = `${title} (${formatDuration(ms)})`;
      }
    },
  };
}

export function upTasks(options: UpOptions, ctx: UpContext): ListrTask<UpContext>[] {
  return [
    {
      title: 'Load configuration and secrets',
      task: async (_c, task) => {
        // A newcomer's first dev run gets a session secret instead of a stop (lib/dev-secret.ts).
        const generated = options.env === 'dev' ? ensureDevAuthSecret(options.repoRoot, process.env) : undefined;
        ctx.config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
        ctx.secrets = buildSecrets(ctx.config, process.env);
        registerSecretValues(Object.values(ctx.secrets.values));
        const db = ctx.secrets.embeddedPostgres ? 'in-cluster PostgreSQL' : 'external database';
        // The provider's tools are checked now, before anything is rendered or started.
        const selection = await selectProvider(options.clusterProvider, ctx.config.environment, {
          needsDocker: !options.skipImages,
          kubeContext: options.context,
        });
        ctx.provider = selection.provider;
        const cluster = `cluster ${ctx.provider.name}${selection.why ? ` (chosen by default: ${selection.why})` : ''}`;
        const chat = ctx.secrets.chat ? '' : '; chat is off (no OPENAI_API_KEY: /api/chat answers 503 until you set one)';
        task.title = `Configuration ${ctx.config.environment}: namespace ${ctx.config.namespace}, ${ctx.config.domain}, ${ctx.config.replicas} replica(s), ${db}, ${cluster}${chat}${generated ? `. ${generated}` : ''}`;
      },
    },
    {
      title: 'Render manifests and check policy',
      task: (_c, task) => {
        // Provisional image refs (IMAGE_TAG) so bad manifests are refused before any build or
        // cluster call; the images step re-renders with the built tags.
        ctx.refs = defaultImageRefs(ctx.config!);
        task.title = renderAndCheck(ctx, options);
      },
    },
    {
      title: 'Cluster',
      task: async (_c, task) => {
        const start = Date.now();
        const pctx = clusterContext(ctx, options, (line) => (task.output = line));
        try {
          ctx.target = await ctx.provider!.ensureCluster(pctx);
          // The sandbox's kubeconfig is this run's (and the tools' it starts).
          if (ctx.target.kubeconfig) process.env.KUBECONFIG = ctx.target.kubeconfig;
          ctx.cluster = loadKubeConfig(ctx.target.context ?? options.context);
          const version = await checkReachable(ctx.cluster);
          // Whose namespace: decided before anything is installed or applied (lib/ownership.ts).
          const planned = ctx.plan!.stages.find((p) => p.stage.id === 'namespace')?.objects[0]?.object;
          if (planned) {
            const existing = (await listObjects(ctx.cluster, 'v1', 'Namespace', undefined, undefined, `metadata.name=${planned.metadata.name}`))?.items[0];
            const decision = planNamespace(planned, existing);
            if (decision.action === 'refuse') throw new UsageError(decision.reason);
            if (decision.action === 'keep') ctx.usersNamespace = decision.note;
          }
          task.title = `Cluster (${ctx.provider!.name}): ${ctx.target.summary}; context ${ctx.cluster.context} at ${ctx.cluster.server} (Kubernetes ${version})`;
        } finally {
          ctx.timings.push({ title: 'cluster', ms: Date.now() - start });
        }
      },
    },
    {
      title: 'Ingress controller',
      task: async (_c, task) => {
        task.title = await timed(ctx.timings, 'ingress controller', () => ctx.provider!.ensureIngress(ctx.cluster!, clusterContext(ctx, options, (line) => (task.output = line))));
      },
    },
    {
      title: 'Dapr control plane',
      task: async (_c, task) => {
        task.title = await timed(ctx.timings, 'Dapr control plane', () => ensureDapr(ctx.cluster!, ctx.provider!, clusterContext(ctx, options, (line) => (task.output = line))));
      },
    },
    {
      title: 'Build and load images',
      skip: () => {
        const notNeeded = ctx.provider?.imagesNotNeeded?.(clusterContext(ctx, options, () => {}));
        if (notNeeded) return `Images: ${notNeeded}`;
        return options.skipImages ? `Images: using prebuilt ${Object.values(ctx.refs!).join(', ')} (--skip-images)` : false;
      },
      task: async (_c, task) => {
        const providerCtx = clusterContext(ctx, options, (line) => {
          task.output = line;
        });
        await timed(ctx.timings, 'images', async () => {
          // Only what the rendered manifests run: no PostgreSQL image with the external database.
          const only = referencedImages(ctx.plan!.rendered, ctx.refs!);
          const built = await buildImages({ repoRoot: options.repoRoot, names: ctx.config!.images, nodeImage: nodeImageFrom(providerCtx.settings), redact, log: providerCtx.log, only });
          ctx.refs = { ...ctx.refs!, ...(await ctx.provider!.loadImages(built.refs, providerCtx)) };
          renderAndCheck(ctx, options);
          const counts = built.results.map((r) => `${r.ref} ${r.action}`).join(', ');
          task.title = `Images: ${counts}, loaded (${ctx.provider!.name})`;
        });
      },
    },
    {
      title: 'Compare with the cluster',
      task: async (_c, task) => {
        // One list per kind (only the Namespace when it does not exist yet), before any stage.
        const live = await readLive(ctx.cluster!, ctx.config!.namespace, { namespaceFirst: true });
        const planned = ctx.plan!.stages.flatMap((p) => p.objects.map((o) => o.object));
        ctx.changes = changesOf(planned, live.lists, FIELD_MANAGER);
        const s = summarize(ctx.changes.entries);
        task.title = s.unchanged === 0 ? `Compared with the cluster: all ${s.create + s.update} object(s) to apply` : `Compared with the cluster: ${s.create} to create, ${s.update} to update, ${s.unchanged} unchanged (not applied again)`;
      },
    },
    ...STAGES.map((stage) => stageTask(ctx, stage, options.signal)),
    {
      title: 'Address',
      task: async (_c, task) => {
        ctx.address = await ctx.provider!.address(ctx.cluster!, clusterContext(ctx, options, (line) => (task.output = line)), ctx.config!.namespace);
        task.title = ctx.address.url
          ? `Address: ${ctx.address.url}`
          : ctx.address.serves
          ? `Address: ${ctx.address.ingress ? `ingress at ${ctx.address.ingress}` : 'ingress address unknown'}`
          : 'Address: none (nothing serves traffic in the sandbox)';
      },
    },
  ];
}

/** Renders the manifests with the current image refs and runs the policy gate; returns a summary. */
function renderAndCheck(ctx: UpContext, options: UpOptions): string {
  ctx.plan = buildPlan(ctx.config!, ctx.secrets!, ctx.refs!, options.manifestsDir, options.repoRoot);
  const dir = path.resolve(options.repoRoot, options.manifestsDir);
  const files = manifestFiles(dir).map((abs) => path.relative(options.repoRoot, abs) || abs);
  const result = policyGate({ objects: ctx.plan.rendered, files, environment: ctx.config!.environment, namespace: ctx.config!.namespace, root: options.repoRoot });
  if (result.violations.length > 0) {
    throw new UsageError(`The policy gate refused the manifests; nothing was sent to a cluster.\n${formatText(result, ctx.config!.environment)}`);
  }
  const count = ctx.plan.stages.reduce((n, st) => n + st.objects.length, 0);
  const excepted = result.exceptions.length ? `, ${result.exceptions.length} excepted (see npm run validate)` : '';
  return `Rendered ${count} objects in ${ctx.plan.stages.filter((st) => st.objects.length).length} stages; policy: ${result.rulesChecked} rules passed${excepted}`;
}

function clusterContext(ctx: UpContext, options: UpOptions, log: (line: string) => void): ClusterContext {
  return providerContext(ctx.config!, options, log);
}

export async function runUp(options: UpOptions): Promise<UpContext> {
  const ctx: UpContext = { timings: [] };
  return runWithTimings(upTasks(options, ctx), ctx);
}
