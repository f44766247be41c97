// The test control plane for people: start it, point kubectl or `npm run up -- --cluster
// current` at it, stop it. State (folder, pids) is kept in the build cache folder so a
// later `stop` finds the processes.
//
//   npm run controlplane -- start     prints the kubeconfig and an export line
//   npm run controlplane -- status
//   npm run controlplane -- env       eval "$(npm run -s controlplane -- env)"
//   npm run controlplane -- stop

import '../lib/require-node.mjs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { main } from '../lib/cli.ts';
import { UsageError } from '../lib/errors.ts';
import { describeVersions, readVersions, type PodMode } from '../lib/controlplane/index.ts';
import { MAX_REAL_NODES } from '../lib/controlplane/node/layout.ts';
import { get } from '../lib/controlplane/health.ts';
import { isAlive } from '../lib/controlplane/processes.ts';
import { describeLeft, describeRecovery, podsOf, isRunning as running, readState as readStateFile, recoverAbandoned, restartRecorded, startDetached, stateFilePath, stopRecorded, type ControlPlaneState as State, type StopResult } from '../lib/controlplane/state.ts';

const HELP = `Usage: npm run controlplane -- <command> [options]

A real Kubernetes control plane on 127.0.0.1 (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kwok as the kubelet), with the Dapr CRDs
and an ingress-nginx stand-in (with simulated pods; with real pods \`up\` deploys Traefik).
Build the binaries first: npm run controlplane:build

Commands:
  start     start it in the background; prints the kubeconfig path and an export line
  stop      stop every process it started and remove its folder
  status    say whether it runs and answers (exit 0 when healthy, 1 otherwise)
  env       print 'export KUBECONFIG=...' for eval (exit 1 when not running)
  restart COMPONENT [--down SECONDS]
            stop one of etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
            kwok; keep it down SECONDS (default 0); start it with the same arguments
            and wait until it is healthy

Options for start:
  --pods real|simulated
                   real: one real node (containerd, kubelet, kube-proxy in a network
                   namespace, CoreDNS; Linux and root only, the API server then listens on
                   10.250.0.1); simulated (default): kwok nodes
  --nodes N        number of nodes (default 1): kwok nodes with simulated pods; with
                   --pods real, real nodes (at most 9; each further one,
                   todo-deploy-node-<n>, in a network namespace off the first's)
  --registry       also run an image registry (CNCF Distribution, built with
                   lib/controlplane/build/build.sh registry) on 127.0.0.1:<port>, plain
                   HTTP, its store in the plane's folder; with real pods the node pulls
                   from it. \`env\` and \`status\` print export REGISTRY=...
  --no-crds        do not install the Dapr CRDs
  --no-ingress     do not run the ingress stand-in (simulated pods)
  --debug          show stack traces on errors
  -h, --help       show this help

Pods on kwok nodes turn Running, then Ready after their longest readinessProbe
initialDelaySeconds. A pod annotated todo-deploy.test/never-ready: "true" never
turns Ready; one annotated todo-deploy.test/fail-as: ImagePullBackOff, CrashLoopBackOff
or OOMKilled shows that failure as a kubelet reports it, with a warning event.`;

const stateFile = stateFilePath();

function readState(): State | undefined {
  return readStateFile(stateFile);
}

async function stop(): Promise<number> {
  const state = readState();
  let code = 0;
  let result: StopResult | undefined;
  if (!state) {
    console.log('The control plane is not running (no state file).');
  } else {
    // Its lines say where the time goes: the node programs, the rest, the sweep.
    result = await stopRecorded(state, stateFile, (line) => console.log(line));
    const left = describeLeft(result);
    if (left) {
      console.error(`Could not stop cleanly: ${left}.`);
      code = 1;
    } else {
      console.log(`Stopped the control plane (${state.processes.map((p) => p.name).join(', ')}); removed ${state.dir}.`);
    }
  }
  // What an earlier plane left when it was killed with its reaper (nothing of it runs).
  const recovery = describeRecovery(recoverAbandoned(state && result ? { state, result } : undefined));
  if (recovery.line) console.log(recovery.line);
  if (recovery.problem) {
    console.error(`Could not clean up: ${recovery.problem}.`);
    code = 1;
  }
  return code;
}

async function start(values: Values): Promise<number> {
  const nodes = values.nodes === undefined ? 1 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50) throw new UsageError('--nodes takes a whole number from 1 to 50, e.g. --nodes 2.');
  if (values.pods === 'real' && nodes > MAX_REAL_NODES) throw new UsageError(`--nodes takes at most ${MAX_REAL_NODES} real nodes, e.g. --nodes 2.`);
  const crds = !values['no-crds'];
  const ingress = !values['no-ingress'];
  if (values.pods !== undefined && values.pods !== 'real' && values.pods !== 'simulated') throw new UsageError(`--pods takes real or simulated, not '${values.pods}'.`);
  const pods: PodMode = values.pods ?? 'simulated';
  const previous = readState();
  if (previous && running(previous)) {
    console.error(`The control plane already runs (server ${previous.server}). Use it with:\nexport KUBECONFIG=${previous.kubeconfig}\nor stop it first: npm run controlplane -- stop`);
    return 1;
  }
  if (previous) rmSync(stateFile, { force: true });

  console.log(`Control plane versions: ${describeVersions(readVersions())}`);
  const plane = await startDetached(
    {
      pods,
      installCrds: crds,
      ingressStandIn: ingress,
      registry: values.registry === true,
      realNodes: pods === 'real' ? nodes : undefined,
      nodes: Array.from({ length: nodes }, (_, i) => ({ name: `kwok-node-${i}`, cpu: '8', memory: '32Gi', pods: '110' })),
      log: (line) => console.log(line),
    },
    stateFile,
  );
  console.log(`Control plane running at ${plane.server}; logs in ${join(plane.dir, 'logs')}.`);
  console.log(`Kubeconfig: ${plane.kubeconfig}`);
  console.log(`export KUBECONFIG=${plane.kubeconfig}`);
  if (plane.registry) console.log(`export REGISTRY=${plane.registry.push}`);
  return 0;
}

async function status(): Promise<number> {
  const state = readState();
  if (!state) {
    console.log('The control plane is not running.');
    return 1;
  }
  let healthy = true;
  for (const p of state.processes) {
    const alive = isAlive(p.pid);
    healthy &&= alive;
    console.log(`${p.name.padEnd(24)} pid ${String(p.pid).padEnd(8)} ${alive ? 'running' : 'NOT running'}`);
  }
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    const user = kc.getCurrentUser();
    const cluster = kc.getCurrentCluster();
    const ca = cluster?.caData ? Buffer.from(cluster.caData, 'base64').toString() : undefined;
    const answer = await get({ url: `${state.server}/readyz`, ca, token: user?.token });
    console.log(`kube-apiserver /readyz: HTTP ${answer.status} ${answer.body.trim()}`);
    healthy &&= answer.status === 200;
  } catch (err) {
    console.log(`kube-apiserver ${state.server}: ${(err as Error).message}`);
    healthy = false;
  }
  console.log(`${state.versions}; pods ${podsOf(state)}; started ${state.startedAt}`);
  console.log(`export KUBECONFIG=${state.kubeconfig}`);
  if (state.registry) console.log(`export REGISTRY=${state.registry.push}`);
  return healthy ? 0 : 1;
}

async function restart(component: string | undefined, values: Values): Promise<number> {
  const downSeconds = values.down === undefined ? 0 : Number(values.down);
  if (!Number.isFinite(downSeconds) || downSeconds < 0 || downSeconds > 600) throw new UsageError('--down takes seconds from 0 to 600, e.g. --down 5.');
  if (!component) throw new UsageError('restart needs a component: etcd, kube-apiserver, kube-controller-manager, kube-scheduler or kwok.');
  const state = readState();
  if (!state || !running(state)) {
    console.error('The control plane is not running: npm run controlplane -- start');
    return 1;
  }
  const pid = await restartRecorded(state, component, downSeconds * 1000, stateFile);
  console.log(`Restarted ${component} (pid ${pid}) after ${downSeconds} s down; it is healthy.`);
  return 0;
}

function env(): number {
  const state = readState();
  if (!state || !running(state)) {
    console.error('The control plane is not running: npm run controlplane -- start');
    return 1;
  }
  console.log(`export KUBECONFIG=${state.kubeconfig}`);
  if (state.registry) console.log(`export REGISTRY=${state.registry.push}`);
  return 0;
}

const OPTIONS = {
  pods: { type: 'string' },
  nodes: { type: 'string' },
  'no-crds': { type: 'boolean' },
  'no-ingress': { type: 'boolean' },
  registry: { type: 'boolean' },
  down: { type: 'string' },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

interface Values {
  pods?: string;
  nodes?: string;
  'no-crds'?: boolean;
  'no-ingress'?: boolean;
  registry?: boolean;
  down?: string;
}

/** Each command: the options it takes (besides --debug and --help) and how many arguments. */
const COMMANDS: Record<string, { options: (keyof Values)[]; args: number; run: (values: Values, args: string[]) => Promise<number> | number }> = {
  start: { options: ['pods', 'nodes', 'no-crds', 'no-ingress', 'registry'], args: 0, run: (values) => start(values) },
  stop: { options: [], args: 0, run: () => stop() },
  status: { options: [], args: 0, run: () => status() },
  env: { options: [], args: 0, run: () => env() },
  restart: { options: ['down'], args: 1, run: (values, args) => restart(args[0], values) },
};

await main<Values>({
  name: 'controlplane',
  usage: HELP,
  options: OPTIONS,
  run: async (values, positionals) => {
    const [name, ...args] = positionals;
    if (!name) {
      console.log(HELP);
      return 2;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`Unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')} (see --help).`);
    const misplaced = (Object.keys(values) as (keyof Values | 'debug' | 'help')[]).filter((o) => o !== 'debug' && o !== 'help' && values[o] !== undefined && !command.options.includes(o));
    if (misplaced.length > 0) throw new UsageError(`${misplaced.map((o) => `--${o}`).join(', ')} does not go with ${name}. Fix: see \`npm run controlplane -- --help\` for which command takes it.`);
    if (args.length > command.args) throw new UsageError(`Unexpected argument(s) after ${name}: ${args.slice(command.args).join(' ')}. Fix: see \`npm run controlplane -- --help\`.`);
    return command.run(values, args);
  },
});
