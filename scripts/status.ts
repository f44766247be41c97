#!/usr/bin/env tsx
// npm run status: every entity of the data model and its state, in the words of its
// state-transition diagram.
//   1. configuration (namespace, cluster), as `up` reads it
//   2. the cluster, found as `down` finds it (never started)
//   3. the stack's objects, pods, EndpointSlices and the release history, read at once
//   4. a table (or --output json); --watch redraws whenever one of them changes
import '../lib/require-node.mjs';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, settingFlags } from '../lib/flags.ts';
import { loadConfig } from '../lib/config.ts';
import { DeployError, UsageError } from '../lib/errors.ts';

const OUTPUTS = ['table', 'json'] as const;

const usage = `Usage: npm run status -- [options]

Shows every entity of the data model with its state in the words of its state-transition
diagram: the Deployment Configuration (Applied, Running, Failed, Rolledback), the Helm Release
(revision, status, age), each Application Component (Deployed, Running, Healthy, Failed) and its
Pods (Pending, ContainerCreating, Running, Ready, ImagePullBackOff, CrashLoopBackOff, OOMKilled,
Restarting), Services (Created, Endpoints Available, No Endpoints), the Ingress (No Address,
Address Assigned, Accessible), ServiceAccounts, RBAC, NetworkPolicies, the Secret and the Dapr
objects. Reads only; the cluster is found as \`down\` finds it, never started.

Options:
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --output table|json         report format (default table)
  --watch                     redraw whenever an object of the stack changes (Ctrl-C ends)
  --debug                     print stack traces on failure
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 the report was made, 1 the cluster could not be read, 2 bad input or usage.`;

await main<Record<string, any>>({
  name: 'status',
  usage,
  options: {
    ...DEPLOY_OPTIONS,
    output: { type: 'string', default: 'table' },
    watch: { type: 'boolean', default: false },
  },
  run: async (values) => {
    const clusterProvider = checkCluster(values.cluster);
    if (!(OUTPUTS as readonly string[]).includes(values.output)) throw new UsageError(`Unknown output format "${values.output}" given to --output. Fix: use --output table or json.`);
    const config = loadConfig({ env: values.env, repoRoot: REPO_ROOT, flags: settingFlags(values) });
    // The client is loaded only now: --help and a refused flag never pay for it.
    const [{ findRunningCluster }, { readStatus }, { formatStatusTable }, { watchStack }] = await Promise.all([
      import('../lib/cluster/find.ts'),
      import('../lib/kube/status.ts'),
      import('../lib/status.ts'),
      import('../lib/kube/watch-stack.ts'),
    ]);
    const found = await findRunningCluster(config, { clusterProvider, context: values.context });
    if ('absent' in found) throw new DeployError(`No cluster runs (${found.absent}), so there is no status to show. Fix: npm run up.`);
    const draw = async () => {
      const report = await readStatus(found.cluster, config.namespace);
      return values.output === 'json' ? JSON.stringify(report, null, 2) : formatStatusTable(report, new Date());
    };
    if (!values.watch) {
      process.stdout.write(`${await draw()}\n`);
      return 0;
    }
    let last = '';
    const redraw = async () => {
      const text = await draw();
      if (text === last) return;
      last = text;
      // On a terminal the screen is cleared; piped, each report follows the last (json: one per line).
      if (values.output === 'json') process.stdout.write(`${JSON.stringify(JSON.parse(text))}\n`);
      else process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : '\n'}${text}\n`);
    };
    await redraw();
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await watchStack(found.cluster, config.namespace, redraw, stop.signal);
    return 0;
  },
});
