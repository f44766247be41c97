#!/usr/bin/env tsx
// npm run up: from configuration to a running Todo stack, stage by stage.
//   1. configuration and secrets     (env/<env>.env, .env, flags; nothing touches the cluster on error)
//   2. render manifests               (manifests/*.yaml with ${VAR} from the configuration)
//   3. the cluster                    (--cluster: minikube/kind started or created when needed,
//                                      current used as it is, sandbox started; unreachable -> clear error)
//   4. the ingress controller         (installed or checked, and ready before any Ingress)
//   5. the Dapr control plane         (installed with helm or the Dapr CLI when missing, then ready)
//   6. build and load images
//   7. the lock (a Lease) and a pending revision of the release todo-app (Helm's format)
//   8. stages 1..10 of the creation order, each applied together and gated; a pod that cannot
//      start fails its gate at once, and the run goes back to the last deployed revision
//   9. what the plan no longer has pruned; the revision recorded deployed
//  10. the URL, and the hosts-file line when the domain does not resolve to the ingress
import '../lib/require-node.mjs';
import { styleText } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { main, REPO_ROOT } from '../lib/cli.ts';
import { applyPodsFlag, CLUSTER_HELP, DEPLOY_OPTIONS, SETTING_HELP, checkCluster, interruptSignal, settingFlags } from '../lib/flags.ts';
import { DEFAULT_MANIFESTS_DIR } from '../lib/config.ts';
import { UsageError } from '../lib/errors.ts';
import { historyMax } from '../lib/release/record.ts';

const usage = `Usage: npm run up -- [options]

Deploys the Todo stack: renders manifests/ for the environment, applies them in the data
model's creation order (Namespace, Secrets, ServiceAccounts, RBAC, Dapr Configuration, Dapr
Components, NetworkPolicies, Services, Deployments, Ingress) and waits at a readiness gate
after each stage. Before the first stage it makes sure the cluster runs (see Cluster), that
an ingress controller and the Dapr control plane are ready (installing Dapr with helm or the
Dapr CLI when it is missing), and builds and loads the images. At the end it prints the URL
and, when the domain does not resolve to the ingress address, the line for the hosts file.

Each run holds a lock on the namespace (a Lease: a second run is refused at once, naming
the holder) and records a revision of the release todo-app in Helm's own format (helm list,
helm history and helm get read it; npm run history, npm run rollback). A gate fails as soon
as a pod shows a state waiting will not heal (ImagePullBackOff, CrashLoopBackOff, repeated
OOMKilled, CreateContainerConfigError, Unschedulable), with the pod, container, reason,
warning events and last log lines; the run then goes back to the last deployed revision (on
a first install it removes what it created) and exits 1. After a success, objects managed
by todo-deploy that the plan no longer has are pruned, in reverse stage order.

Options:
  --env dev|prod              environment (default dev): reads env/<env>.env, then .env
  --manifests DIR             manifest folder (default manifests)
  --skip-images               do not build or load images; use IMAGE_TAG (or --image-tag)
  --write-hosts               when the domain does not resolve to the ingress address, add the
                              line to the hosts file, after asking (needs a terminal, or --yes)
  --yes                       answer yes to the --write-hosts question
  --no-rollback               when a gate fails, leave the failed state for inspection
  --history-max N             revisions kept in the release history (default 10, 0 keeps all)
  --debug                     print stack traces on failure (secrets stay redacted)
  -h, --help                  show this help

${CLUSTER_HELP}

${SETTING_HELP}

Exit codes: 0 deployed, 1 the deployment failed, 2 bad input or usage (nothing applied),
130 stopped by Ctrl-C, 143 stopped by SIGTERM.`;

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

await main<Record<string, any>>({
  name: 'up',
  usage,
  options: {
    ...DEPLOY_OPTIONS,
    manifests: { type: 'string', default: DEFAULT_MANIFESTS_DIR },
    'skip-images': { type: 'boolean', default: false },
    'write-hosts': { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    'no-rollback': { type: 'boolean', default: false },
    'history-max': { type: 'string' },
  },
  run: async (values) => {
    // From here on Ctrl-C and SIGTERM end the run with a sentence (exit 130/143), even while it loads.
    const signal = interruptSignal();
    const clusterProvider = checkCluster(values.cluster);
    applyPodsFlag(values.pods, clusterProvider);
    // Refused before anything runs: after a deployment is too late to find out.
    if (values['write-hosts'] && !values.yes && !process.stdin.isTTY) {
      throw new UsageError('--write-hosts asks before it changes the hosts file, and there is no terminal to ask on. Fix: add --yes to answer yes, or drop --write-hosts and add the line `up` prints yourself.');
    }
    // The pipeline (the Kubernetes client, listr2) is loaded here, not at start-up: --help
    // and a refused flag never pay for it.
    const [{ runUp }, { listrView, closingDurations }, { hostsAdvice, hostsFilePath, writeHostsLine }] = await Promise.all([
      import('../lib/tasks/up.ts'),
      import('../lib/view/listr.ts'),
      import('../lib/cluster/hosts.ts'),
    ]);
    const started = Date.now();
    const view = listrView();
    const options = {
      env: values.env,
      repoRoot: REPO_ROOT,
      manifestsDir: values.manifests,
      clusterProvider,
      context: values.context,
      skipImages: values['skip-images'],
      flags: settingFlags(values),
      signal,
      noRollback: values['no-rollback'],
      historyMax: historyMax(values['history-max']),
    };
    const result = await runUp(options, view.listener).finally(view.closed);
    const total = Date.now() - started;
    console.log(`\n${closingDurations(result.timings, total)}`);
    const { config, address } = result;
    const domain = config.domain;
    if (!address.serves) {
      console.log(styleText('green', `\n✔ Every stage passed in namespace ${config.namespace} (sandbox).`));
      if (address.hint) console.log(address.hint);
      return;
    }
    const advice = await hostsAdvice(domain, address.ingress);
    console.log(styleText('green', `\n✔ The Todo stack is deployed in namespace ${config.namespace}: ${advice.url}`));
    // The MCP server is reached through the frontend, which acts for the page's session.
    console.log(`MCP server: ${new URL('mcp', advice.url).href} (Streamable HTTP, for the session of the page: send the cookie loading ${advice.url} sets)`);
    if (address.hint) console.log(address.hint);
    if (advice.note) console.log(advice.note);
    if (!advice.line) return;
    const file = process.env.TODO_DEPLOY_HOSTS_FILE || hostsFilePath();
    console.log(`${domain} does not resolve to ${address.ingress}. Add this line to ${file}:\n  ${advice.line}`);
    if (!values['write-hosts']) {
      console.log('(or run up with --write-hosts to add it)');
      return;
    }
    if (!values.yes && !(await confirm(`Add "${advice.line}" to ${file}? [y/N] `))) {
      console.log(`${file} not changed.`);
      return;
    }
    const changed = writeHostsLine(file, address.ingress!, domain);
    console.log(changed ? `Added "${advice.line}" to ${file}.` : `${file} already maps ${domain} to ${address.ingress}.`);
  },
});
