#!/usr/bin/env tsx
// npm run down: the creation order walked backwards.
//   1. configuration                  (which namespace)
//   2. connect to the cluster
//   3. find the objects todo-deploy created (managed-by label)
//   4. stages 10..1: delete, wait until gone; the namespace last, until it finished terminating
//   5. with --purge: delete the minikube profile / kind cluster `up` created, or stop the sandbox
import '../lib/require-node.ts';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { applyPodsFlag, CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, interruptSignal, settingFlags } from '../lib/flags.ts';

const usage = `Usage: npm run down -- [options]

Removes the Todo stack in the reverse of the creation order (Ingress, Deployments, Services,
NetworkPolicies, Dapr Components, Dapr Configuration, RBAC, ServiceAccounts, Secrets,
Namespace), waiting until each object is gone. Only objects labelled
app.kubernetes.io/managed-by=todo-deploy are deleted; with nothing deployed it says so and
succeeds.

Options:
  --env dev|prod              environment (default dev): which namespace to clear
  --force                     also delete todo-deploy's namespace when it holds objects todo-deploy
                              did not create (without it, down lists them and keeps the namespace)
  --purge                     then delete the minikube profile or kind cluster that \`up\` created
                              (one it did not create is kept), or stop the sandbox
  --debug                     print stack traces on failure
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 removed (or nothing to remove), 1 the teardown failed, 2 bad input or usage.`;

await main<Record<string, any>>({
  name: 'down',
  usage,
  options: { ...DEPLOY_OPTIONS, purge: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
  run: async (values) => {
    const clusterProvider = checkCluster(values.cluster);
    applyPodsFlag(values.pods, clusterProvider);
    // Loaded here, not at start-up: --help and a refused flag never pay for the pipeline.
    const [{ runDown }, { timingSummary }, { chalk }] = await Promise.all([import('../lib/tasks/down.ts'), import('../lib/tasks/render.ts'), import('zx')]);
    const started = Date.now();
    const ctx = await runDown({
      env: values.env,
      repoRoot: REPO_ROOT,
      clusterProvider,
      purge: values.purge,
      force: values.force,
      context: values.context,
      flags: settingFlags(values),
      signal: interruptSignal(),
    });
    const removed = [...ctx.found.values()].reduce((n, l) => n + l.length, 0);
    const purged = ctx.purged ? ` Purge: ${ctx.purged}.` : '';
    if (removed === 0) {
      const why = ctx.absent ? `${ctx.absent}` : `nothing managed by todo-deploy is deployed in namespace ${ctx.config!.namespace}`;
      console.log(chalk.green(`\n✔ Nothing to remove: ${why}.${purged}`));
      return;
    }
    console.log(`\n${timingSummary('Durations:', ctx.timings, Date.now() - started)}`);
    // "gone" only when this run deleted it; a kept namespace says why.
    const ns = ctx.config!.namespace;
    const namespace = (ctx.found.get('namespace') ?? []).length > 0
      ? `namespace ${ns} is gone`
      : `namespace ${ns} is kept${ctx.foreignNamespace ? ' (todo-deploy did not create it)' : ctx.keptFor ? ` (it holds ${ctx.keptFor.length} object(s) todo-deploy did not create; see above, or --force)` : ''}`;
    console.log(chalk.green(`\n✔ Removed ${removed} object(s); ${namespace}.${purged}`));
  },
});
