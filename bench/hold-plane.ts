// Development aid: the benchmark's cluster (control plane with the audit log, the tools'
// ServiceAccount, the Dapr stand-in, settled), kept running until Ctrl-C/SIGTERM, so one
// phase of one tool can be profiled by hand. Prints the kubeconfig and audit log paths.
//   npx tsx bench/hold-plane.ts /tmp/somewhere
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startControlPlane } from '../lib/controlplane/index.ts';
import { clusterFromKubeConfig } from '../lib/kube/client.ts';
import { REPO_ROOT } from '../lib/repo-root.ts';
import { writeAuditPolicy, writeToolKubeconfig } from './audit.ts';
import { settleGarbageCollector } from './cluster-state.ts';
import { installDaprStandIn } from './dapr-stand-in.ts';
import { BENCH_SECRETS, renderStack } from './render.ts';

const dir = process.argv[2] ?? '/tmp/bench-plane';
mkdirSync(dir, { recursive: true, mode: 0o700 });
const audit = writeAuditPolicy(dir);
const plane = await startControlPlane({ log: (l) => console.error(l), apiserverExtraArgs: audit.args });
const stop = () => void plane.stop().finally(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const cluster = clusterFromKubeConfig(plane.kc);
const kubeconfig = await writeToolKubeconfig(cluster, readFileSync(path.join(plane.dir, 'pki', 'apiserver.crt'), 'utf8'), path.join(dir, 'tool.kubeconfig'));
await installDaprStandIn(cluster);
const rendered = renderStack(REPO_ROOT, 'dev', { ...process.env, ...BENCH_SECRETS });
const custom = ['Configuration', 'Component'].map((k) => rendered.objects.find((o) => o.kind === k)).filter((o) => o !== undefined);
const settle = await settleGarbageCollector(cluster, custom);
console.error(`settled in ${settle.foregroundMs} ms`);
writeFileSync(path.join(dir, 'env'), `export KUBECONFIG=${kubeconfig}\nexport AUDIT_LOG=${audit.log}\nexport ADMIN_KUBECONFIG=${plane.kubeconfig}\n`);
console.log(`ready: ${dir}/env`);
setInterval(() => {}, 1 << 30);
