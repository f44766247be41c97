#!/usr/bin/env tsx
// npm run up: from configuration to a running Todo stack, stage by stage.
//   1. configuration and secrets     (env/<env>.env, .env, flags; nothing touches the cluster on error)
//   2. render manifests               (manifests/*.yaml with ${VAR} from the configuration)
//   3. connect to the cluster         (kubeconfig context; unreachable -> clear error)
//   4. build and load images
//   5. stages 1..10 of the creation order, each applied together and gated
import { chalk } from 'zx';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, interruptSignal, settingFlags } from '../lib/flags.ts';
import { runUp } from '../lib/tasks/up.ts';
import { timingSummary } from '../lib/tasks/render.ts';
import { DEFAULT_MANIFESTS_DIR } from '../lib/plan.ts';

const usage = `Usage: npm run up -- [options]

Deploys the Todo stack: renders manifests/ for the environment, applies them in the data
model's creation order (Namespace, Secrets, ServiceAccounts, RBAC, Dapr Configuration, Dapr
Components, NetworkPolicies, Services, Deployments, Ingress) and waits at a readiness gate
after each stage.

Options:
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --manifests DIR             manifest folder (default manifests)
  --skip-images               do not build or load images; use IMAGE_TAG (or --image-tag)
  --debug                     print stack traces on failure (secrets stay redacted)
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 deployed, 1 the deployment failed, 2 bad input or usage (nothing applied).`;

await main<Record<string, any>>({
  name: 'up',
  usage,
  options: { ...DEPLOY_OPTIONS, manifests: { type: 'string', default: DEFAULT_MANIFESTS_DIR }, 'skip-images': { type: 'boolean', default: false } },
  run: async (values) => {
    checkCluster(values.cluster);
    const started = Date.now();
    const ctx = await runUp({
      env: values.env,
      repoRoot: REPO_ROOT,
      manifestsDir: values.manifests,
      context: values.context,
      skipImages: values['skip-images'],
      flags: settingFlags(values),
      signal: interruptSignal(),
    });
    const total = Date.now() - started;
    console.log(`\n${timingSummary('Stage durations:', ctx.timings, total)}`);
    console.log(chalk.green(`\n✔ The Todo stack is deployed in namespace ${ctx.config!.namespace}: http://${ctx.config!.domain}/`));
  },
});
