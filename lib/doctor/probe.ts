// `doctor`'s probing: asks the machine and the cluster what is there, with the same code `up`
// uses (the providers' findCluster, the kube client, the ingress and Dapr probes: in
// probe-cluster.ts, loaded only when there is a cluster to ask), and returns plain data for
// lib/doctor/checks.ts to judge. Every probe catches its own failure, so one
// broken part never hides the others. Nothing is started, created or installed.
import { loadConfig, ENVIRONMENTS, type Environment, type SettingKey } from '../config.ts';
import { buildSecrets } from '../secrets.ts';
import { redact } from '../output.ts';
import type { ClusterContext, ProviderName } from '../cluster/provider.ts';
import { devDefault } from '../cluster/default.ts';
import { providerContext } from '../cluster/context.ts';
import { findTool, runToolRaw, type ToolName } from '../cluster/tools.ts';
import { daprVersion } from '../cluster/versions.ts';
import { hostsFilePath, resolvesTo, type Lookup } from '../cluster/hosts.ts';
import { cacheRoot, CONTROL_PLANE_GROUPS, missingGroups, NODE_GROUPS, readVersions } from '../controlplane/versions.ts';
import type { Probe, ToolFound } from './checks.ts';

export interface ProbeOptions {
  env: string;
  repoRoot: string;
  provider?: ProviderName;
  context?: string;
  flags: Partial<Record<SettingKey, string>>;
  /** Name resolution (tests inject one); default node:dns. */
  lookup?: Lookup;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function version(tool: ToolName, args: string[], pick: (out: string) => string | undefined): Promise<ToolFound> {
  const path = await findTool(tool);
  if (!path) return {};
  const out = await runToolRaw(tool, args, { redact });
  return { path, version: out.exitCode === 0 ? pick(out.stdout.trim()) : undefined };
}

const firstLine = (s: string) => s.split('\n')[0]?.trim() || undefined;

/** Which pods the sandbox runs or would run, as up decides it (lib/cluster/sandbox-pods.ts). */
async function sandboxPods(ctx: ClusterContext, docker: boolean, buildable: boolean): Promise<NonNullable<Probe['sandbox']>['pods']> {
  // Loaded only for --cluster sandbox.
  const [{ podsOf, runningState, stateFilePath }, { realNodeSupport }, { choosePods, parsePodsSetting }] = await Promise.all([
    import('../controlplane/state.ts'),
    import('../controlplane/node/support.ts'),
    import('../cluster/sandbox-pods.ts'),
  ]);
  const running = runningState(stateFilePath(ctx.settings as NodeJS.ProcessEnv));
  const host = realNodeSupport();
  try {
    const choice = choosePods({ requested: parsePodsSetting(ctx.settings.SANDBOX_PODS), running: running ? podsOf(running) : undefined, host, docker, buildable });
    return { mode: choice.pods, why: choice.why, running: !!running, host: host.summary };
  } catch (err) {
    return { refused: message(err) };
  }
}

export async function probe(options: ProbeOptions): Promise<Probe> {
  const environment: Environment = (ENVIRONMENTS as readonly string[]).includes(options.env) ? (options.env as Environment) : 'dev';
  // The same choice `up` makes without --cluster (dev probes this machine; prod is the current context).
  const chosen = options.provider ? undefined : environment === 'dev' && !options.context ? await devDefault() : { name: 'current' as const, why: `the default for --env ${environment}`, settings: {} };
  const providerName = options.provider ?? chosen!.name;

  let configError: string | undefined;
  let domain = 'todo.local';
  let namespace = 'todo';
  let fileSettings: Record<string, string> = {};
  try {
    const config = loadConfig({ env: options.env, repoRoot: options.repoRoot, flags: options.flags });
    domain = config.domain;
    namespace = config.namespace;
    fileSettings = config.fileSettings;
    buildSecrets(config, process.env);
  } catch (err) {
    configError = message(err);
  }
  // doctor only asks: every wait it may start is short.
  const ctx = providerContext({ environment, fileSettings, readyTimeoutSeconds: 10 }, { context: options.context, defaults: chosen?.settings }, () => {});

  const [minikube, kind, helm, dapr] = await Promise.all([
    version('minikube', ['version', '--short'], firstLine),
    version('kind', ['version'], (out) => out.split(/\s+/)[1]),
    version('helm', ['version', '--short'], firstLine),
    version('dapr', ['--version'], (out) => /CLI version:\s*(\S+)/.exec(out)?.[1]),
  ]);

  const docker: Probe['docker'] = { found: !!(await findTool('docker')), reachable: false };
  if (docker.found) {
    const out = await runToolRaw('docker', ['info', '--format', '{{.ServerVersion}}'], { redact });
    docker.reachable = out.exitCode === 0 && out.stdout.trim() !== '';
    docker.version = docker.reachable ? out.stdout.trim() : undefined;
    docker.error = docker.reachable ? undefined : firstLine(out.stderr);
  }

  let sandbox: Probe['sandbox'];
  if (providerName === 'sandbox') {
    const versions = readVersions();
    const built = missingGroups(versions, CONTROL_PLANE_GROUPS).length === 0;
    const go = !!(await findTool('go'));
    sandbox = { built, go, binDir: cacheRoot(), pods: await sandboxPods(ctx, docker.reachable, go || missingGroups(versions, NODE_GROUPS).length === 0) };
  }

  let cluster: Probe['cluster'];
  let ingress: Probe['ingress'];
  let daprState: Probe['dapr'];
  let networkPolicies: Probe['networkPolicies'];
  // Without an API server to ask, kind's address is still known: its ports are on this machine.
  let address: string | undefined = providerName === 'kind' ? '127.0.0.1' : undefined;
  let serves = providerName !== 'sandbox';
  const tool = providerName === 'minikube' || providerName === 'kind' ? providerName : undefined;
  if (tool && !(tool === 'minikube' ? minikube : kind).path) {
    cluster = { state: 'unchecked', reason: `${tool} is not installed` };
  } else {
    // Loaded only now: the local checks above never load the providers or the Kubernetes client.
    const { probeCluster } = await import('./probe-cluster.ts');
    const found = await probeCluster(providerName, ctx, namespace);
    ({ cluster, ingress, dapr: daprState, networkPolicies } = found);
    if (found.reachable) address = found.address;
    if (found.serves !== undefined) serves = found.serves;
  }
  const resolves = address ? await resolvesTo(domain, address, options.lookup) : false;

  let pinnedDapr: string;
  try {
    pinnedDapr = daprVersion(ctx);
  } catch (err) {
    pinnedDapr = `(invalid DAPR_VERSION: ${message(err)})`;
  }

  return {
    provider: providerName,
    defaulted: options.provider === undefined,
    why: chosen?.why,
    environment,
    configError,
    node: { version: process.versions.node },
    docker,
    tools: { minikube, kind, helm, dapr },
    daprVersion: pinnedDapr,
    cluster,
    sandbox,
    ingress,
    dapr: daprState,
    networkPolicies,
    host: { domain, address, resolves, serves, hostsFile: process.env.TODO_DEPLOY_HOSTS_FILE || hostsFilePath() },
  };
}
