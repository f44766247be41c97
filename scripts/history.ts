#!/usr/bin/env tsx
// npm run history: the revisions of the release todo-app, as `helm history todo-app` lists
// them (the records are Helm's own: helm history shows the same).
import '../lib/require-node.mjs';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, settingFlags } from '../lib/flags.ts';
import { loadConfig } from '../lib/config.ts';
import { DeployError, UsageError } from '../lib/errors.ts';

const OUTPUTS = ['table', 'json'] as const;

const usage = `Usage: npm run history -- [options]

Lists the revisions of the release todo-app in the namespace: revision, when, status
(pending-install, pending-upgrade, pending-rollback, deployed, superseded, failed), chart, app
version and what happened. The records are Secrets in Helm's own format, so
\`helm history todo-app -n <namespace>\` lists the same. \`npm run rollback -- --to N\` goes back
to one of them.

Options:
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --output table|json         report format (default table)
  --debug                     print stack traces on failure
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 listed, 1 the cluster could not be read, 2 bad input or usage.`;

await main<Record<string, any>>({
  name: 'history',
  usage,
  options: { ...DEPLOY_OPTIONS, output: { type: 'string', default: 'table' } },
  run: async (values) => {
    const clusterProvider = checkCluster(values.cluster);
    if (!(OUTPUTS as readonly string[]).includes(values.output)) throw new UsageError(`Unknown output format "${values.output}" given to --output. Fix: use --output table or json.`);
    const config = loadConfig({ env: values.env, repoRoot: REPO_ROOT, flags: settingFlags(values) });
    const [{ findRunningCluster }, { releaseStore }, { RELEASE_NAME }, { formatHistory, historyRows }] = await Promise.all([
      import('../lib/cluster/find.ts'),
      import('../lib/release/store.ts'),
      import('../lib/release/record.ts'),
      import('../lib/release/history.ts'),
    ]);
    const found = await findRunningCluster(config, { clusterProvider, context: values.context });
    if ('absent' in found) throw new DeployError(`No cluster runs (${found.absent}), so there is no history to show.`);
    const rows = historyRows(await releaseStore(found.cluster, config.namespace, RELEASE_NAME).history());
    if (values.output === 'json') process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else process.stdout.write(rows.length ? `${formatHistory(rows)}\n` : `The release ${RELEASE_NAME} has no revisions in namespace ${config.namespace} (npm run up records the first).\n`);
    return 0;
  },
});
