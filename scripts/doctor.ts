#!/usr/bin/env tsx
// npm run doctor: is this machine ready for `npm run up`? One line per check, ✓ or ✗ with the
// fix; exit 1 when something blocks `up`. It looks and never changes anything:
//   Node.js, the configuration and secrets, Docker (daemon reachable), minikube or kind,
//   helm or the Dapr CLI, the cluster and its context, the ingress controller, the Dapr
//   control plane, and whether the domain resolves to the ingress address.
import '../lib/require-node.mjs';
import { main, REPO_ROOT, COMMON_OPTIONS } from '../lib/cli.ts';
import { applyPodsFlag, CLUSTER_HELP, CLUSTER_OPTIONS, SETTING_OPTIONS, checkCluster, settingFlags } from '../lib/flags.ts';
import { probe } from '../lib/doctor/probe.ts';
import { evaluate, exitCode, formatReport } from '../lib/doctor/checks.ts';

const usage = `Usage: npm run doctor -- [options]

Checks what \`npm run up\` needs, for the cluster provider it would use, and prints one line
per check with ✓ or ✗ and the fix: Node.js, the configuration and secrets, Docker (the daemon
answers), minikube or kind, helm or the Dapr CLI, the cluster and its context, the ingress
controller, the Dapr control plane, and whether the domain resolves to the ingress address.
A ✗ marked [blocks up] is one that \`up\` cannot get past; the others \`up\` takes care of
(starting the cluster, installing ingress-nginx or Dapr) or merely tells you about.
Nothing is started, created or installed.

Options:
  --env dev|prod              environment (default dev): which settings and default provider
  --debug                     print stack traces on failure
  -h, --help                  show this help

${CLUSTER_HELP}

Exit codes: 0 nothing blocks up, 1 something blocks up, 2 bad usage.`;

await main<Record<string, any>>({
  name: 'doctor',
  usage,
  options: { ...COMMON_OPTIONS, ...CLUSTER_OPTIONS, ...SETTING_OPTIONS },
  run: async (values) => {
    const provider = checkCluster(values.cluster);
    applyPodsFlag(values.pods, provider);
    const found = await probe({ env: values.env, repoRoot: REPO_ROOT, provider, context: values.context, flags: settingFlags(values) });
    const lines = evaluate(found);
    const command = `npm run up -- --env ${found.environment} --cluster ${found.provider}`;
    console.log(`doctor: checking for \`${command}\`${found.defaulted ? ` (${found.provider} chosen by default: ${found.why ?? `the default for --env ${found.environment}`})` : ''}\n`);
    console.log(formatReport(lines, command));
    return exitCode(lines);
  },
});
