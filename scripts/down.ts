#!/usr/bin/env tsx
// npm run down: the creation order walked backwards.
//   1. configuration                  (which namespace)
//   2. connect to the cluster
//   3. find the objects todo-deploy created (managed-by label)
//   4. stages 10..1: delete, wait until gone; the namespace last, until it finished terminating
//   5. with --purge: delete the minikube profile / kind cluster `up` created, or stop the sandbox
import '../lib/require-node.mjs';
import { styleText } from 'node:util';
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

Exit codes: 0 removed (or nothing to remove), 1 the teardown failed, 2 bad input or usage,
130 stopped by Ctrl-C, 143 stopped by SIGTERM.`;

await main<Record<string, any>>({
  name: 'down',
  usage,
  options: { ...DEPLOY_OPTIONS, purge: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } },
  run: async (values) => {
    // From here on Ctrl-C and SIGTERM end the run with a sentence (exit 130/143), even while it loads.
    const signal = interruptSignal();
    const clusterProvider = checkCluster(values.cluster);
    applyPodsFlag(values.pods, clusterProvider);
    // Loaded here, not at start-up: --help and a refused flag never pay for the pipeline.
    const [{ runDown }, { listrView, closingDurations }] = await Promise.all([
      import('../lib/tasks/down.ts'),
      import('../lib/view/listr.ts'),
    ]);
    const started = Date.now();
    const view = listrView();
    const options = {
      env: values.env,
      repoRoot: REPO_ROOT,
      clusterProvider,
      purge: values.purge,
      force: values.force,
      context: values.context,
      flags: settingFlags(values),
      signal,
    };
    const result = await runDown(options, view.listener).finally(view.closed);
    const purged = result.purged ? ` Purge: ${result.purged}.` : '';
    if (result.removed === 0) {
      const why = result.absent ? `${result.absent}` : `nothing managed by todo-deploy is deployed in namespace ${result.config.namespace}`;
      console.log(styleText('green', `\n✔ Nothing to remove: ${why}.${purged}`));
      return;
    }
    console.log(`\n${closingDurations(result.timings, Date.now() - started)}`);
    const namespace = result.namespaceGone
      ? `namespace ${result.config.namespace} is gone`
      : `namespace ${result.config.namespace} is kept${result.foreignNamespace ? ' (todo-deploy did not create it)' : result.keptFor ? ` (it holds ${result.keptFor.length} object(s) todo-deploy did not create; see above, or --force)` : ''}`;
    console.log(styleText('green', `\n✔ Removed ${result.removed} object(s); ${namespace}.${purged}`));
  },
});
