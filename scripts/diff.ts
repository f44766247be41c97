#!/usr/bin/env tsx
// npm run diff: what `up` would change, without changing anything.
//   1. configuration, secrets, the plan and its policy gate, as `up --skip-images` makes them
//   2. the cluster, found and never started (as `down` finds it)
//   3. one list per kind with the managed-by labels, all at once
//   4. each planned object classified: create, update (which fields), unchanged; and what the
//      cluster has that the plan lacks: prune. Secret values are never shown.
// Exit codes: 0 nothing would change, 1 something would, 2 the diff could not be made.
import '../lib/require-node.mjs';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, settingFlags } from '../lib/flags.ts';
import { DEFAULT_MANIFESTS_DIR } from '../lib/config.ts';
import { DeployError, UsageError } from '../lib/errors.ts';

const OUTPUTS = ['text', 'json'] as const;

const usage = `Usage: npm run diff -- [options]

Shows what \`npm run up\` would change in the cluster, and changes nothing: every object of the
plan as create, update (with the fields that differ) or unchanged, and every object managed by
todo-deploy in the namespace that the plan no longer has as prune. Images are those
\`up --skip-images\` deploys (IMAGE_TAG, or --image-tag). Secret values are never shown: a
changed Secret names its keys only. The cluster is found as \`down\` finds it, never started.

Options:
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --manifests DIR             manifest folder (default manifests)
  --output text|json          report format (default text): json lists every change with its fields
  --debug                     print stack traces on failure (secrets stay redacted)
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 nothing would change, 1 something would change, 2 the diff could not be made
(bad input or usage, no cluster, an API error).`;

await main<Record<string, any>>({
  name: 'diff',
  usage,
  options: {
    ...DEPLOY_OPTIONS,
    manifests: { type: 'string', default: DEFAULT_MANIFESTS_DIR },
    output: { type: 'string', default: 'text' },
  },
  run: async (values) => {
    const clusterProvider = checkCluster(values.cluster);
    if (!(OUTPUTS as readonly string[]).includes(values.output)) throw new UsageError(`Unknown output format "${values.output}" given to --output. Fix: use --output text or json.`);
    // Loaded here, not at start-up: --help and a refused flag never pay for the client.
    const [{ runDiff }, { formatDiffJson, formatDiffText, hasChanges }] = await Promise.all([import('../lib/tasks/diff.ts'), import('../lib/diff.ts')]);
    let run;
    try {
      run = await runDiff({ env: values.env, repoRoot: REPO_ROOT, manifestsDir: values.manifests, clusterProvider, context: values.context, flags: settingFlags(values) });
    } catch (err) {
      // 1 means "something would change"; a diff that could not be made is 2.
      if (err instanceof DeployError) throw new UsageError(err.message);
      throw err;
    }
    const text = values.output === 'json'
      ? formatDiffJson(run.entries, { namespace: run.namespace, environment: run.environment })
      : formatDiffText(run.entries, run.where);
    process.stdout.write(`${text}\n`);
    return hasChanges(run.entries) ? 1 : 0;
  },
});
