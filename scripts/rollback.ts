#!/usr/bin/env tsx
// npm run rollback [-- --to N]: back to a recorded revision of the release todo-app.
//   1. configuration and secrets, as `up` reads them (the records hold no secret value, so
//      todo-secrets is applied as it is now)
//   2. the cluster, found as `down` finds it (never started), and the lock on the namespace
//   3. revision N (default: the deployed one before the current) applied again through the
//      same ordered, gated stages as `up`; what it does not have pruned
//   4. a new revision recorded, "Rollback to N", as `helm rollback` records it
import '../lib/require-node.mjs';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, interruptSignal, settingFlags } from '../lib/flags.ts';
import { DEFAULT_MANIFESTS_DIR } from '../lib/plan.ts';
import { UsageError } from '../lib/errors.ts';
import { historyMax } from '../lib/release/record.ts';

const usage = `Usage: npm run rollback -- [--to N] [options]

Goes back to revision N of the release todo-app (npm run history lists them; default: the
deployed revision before the current one): its objects are applied again through the same
ordered stages and readiness gates as \`up\`, objects managed by todo-deploy that it did not
have are pruned, and a new revision is recorded ("Rollback to N"). The Secret todo-secrets is
applied as .env and the environment give it now: revisions record its key names, never values.

Options:
  --to N                      the revision to go back to
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --history-max N             revisions kept in the release history (default 10, 0 keeps all)
  --debug                     print stack traces on failure (secrets stay redacted)
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 rolled back, 1 the rollback failed, 2 bad input or usage (no such revision;
nothing changed), 130 stopped by Ctrl-C, 143 stopped by SIGTERM.`;

await main<Record<string, any>>({
  name: 'rollback',
  usage,
  options: { ...DEPLOY_OPTIONS, to: { type: 'string' }, 'history-max': { type: 'string' } },
  run: async (values) => {
    const signal = interruptSignal();
    const clusterProvider = checkCluster(values.cluster);
    let to: number | undefined;
    if (values.to !== undefined) {
      if (!/^\d+$/.test(values.to) || Number(values.to) < 1) throw new UsageError(`--to takes a revision number (1 or more), not "${values.to}". Fix: see npm run history.`);
      to = Number(values.to);
    }
    const [{ runRollback }, { listrView }, { timingSummary }] = await Promise.all([import('../lib/tasks/rollback.ts'), import('../lib/view/listr.ts'), import('../lib/view/durations.ts')]);
    const started = Date.now();
    const view = listrView();
    const result = await runRollback(
      { env: values.env, repoRoot: REPO_ROOT, manifestsDir: DEFAULT_MANIFESTS_DIR, clusterProvider, context: values.context, to, historyMax: historyMax(values['history-max']), flags: settingFlags(values), signal },
      view.listener,
    ).finally(view.closed);
    console.log(`\n${timingSummary('Durations:', result.timings, Date.now() - started)}`);
    console.log(`\n✔ Rolled back to revision ${result.target}: recorded as revision ${result.revision.version} (deployed)${result.pruned ? `, ${result.pruned} object(s) pruned` : ''}.`);
  },
});
