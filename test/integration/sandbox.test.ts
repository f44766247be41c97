// `npm run up -- --cluster sandbox` on a machine without Docker or minikube: PATH holds only
// npm, node and the shells (no docker, minikube, kind, helm or dapr). The sandbox starts the
// project's control plane in the background (its state in a scratch file, so a developer's
// own `npm run controlplane` is never touched), every stage passes, and the output says
// plainly that pods are simulated and nothing serves traffic. A second `up` reuses it;
// `down --cluster sandbox --purge` removes the stack and stops it, leaving no process behind.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isAlive } from '../../lib/controlplane/processes.ts';
import { readState, stopRecorded, type ControlPlaneState } from '../../lib/controlplane/state.ts';
import { fakeBin, type FakeBin } from '../fakes/harness.ts';
import { runScript, show, STACK_LINE } from '../support/run-script.ts';

interface Ctx {
  bin?: FakeBin;
  tmp?: string;
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
  state?: ControlPlaneState;
}

const test = suite<Ctx>('sandbox: up and down --purge without Docker or minikube');

test.before((ctx) => {
  ctx.bin = fakeBin([], { system: ['npm', 'sh'] });
  ctx.tmp = mkdtempSync(path.join(tmpdir(), 'todo-deploy-sandbox-'));
  ctx.stateFile = path.join(ctx.tmp, 'controlplane-state.json');
  ctx.env = {
    ...ctx.bin.env(),
    HOME: process.env.HOME, // the control-plane binaries live in the user's cache folder
    TODO_DEPLOY_CONTROLPLANE_STATE: ctx.stateFile,
    OPENAI_API_KEY: 'sk-sandbox-test-not-real',
    BETTER_AUTH_SECRET: 'sandbox-test-auth-secret-0123456789abcdef',
    CI: 'true',
    NO_COLOR: '1',
  };
});

test.after(async (ctx) => {
  // Whatever happened above, nothing of the sandbox may outlive the suite.
  const left = ctx.stateFile ? readState(ctx.stateFile) : undefined;
  if (left) await stopRecorded(left, ctx.stateFile);
  ctx.bin?.cleanup();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

/** Processes whose command line names the sandbox's folder (its programs all do). */
function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

test('up --cluster sandbox starts the control plane and ends with every stage green, saying pods are simulated', async (ctx) => {
  const r = await runScript('up', ['--cluster', 'sandbox'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /✔ Cluster \(sandbox\): sandbox control plane: started at https:\/\/127\.0\.0\.1:\d+/);
  // Real pods cannot run here (no ip, nsenter or Docker on this PATH): one line says so and why.
  assert.match(r.output, /; pods simulated by kwok, nothing serves traffic \(ip, nsenter, iptables, openssl, umount not on PATH .*; no Docker engine answers/);
  assert.match(r.output, '✔ Ingress controller: the ingress-nginx stand-in');
  assert.match(r.output, '✔ Dapr control plane: stand-in created in dapr-system');
  assert.match(r.output, 'Images: not built for the sandbox');
  for (let n = 1; n <= 10; n++) assert.match(r.output, new RegExp(`✔ Stage ${n}/10 `));
  assert.not.match(r.output, /✖/);
  assert.match(r.output, 'Every stage passed in namespace todo (sandbox)');
  assert.match(r.output, 'pods are simulated by kwok and nothing serves traffic');
  assert.not.match(r.output, STACK_LINE);
  ctx.state = readState(ctx.stateFile!);
  assert.ok(ctx.state, 'the sandbox recorded its state');
  assert.equal(ctx.state!.processes.map((p) => p.name), ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'ingress-stand-in']);
  assert.ok(ctx.state!.processes.every((p) => isAlive(p.pid)), 'the control plane outlives up');
});

test('a second up reuses the running sandbox and changes nothing that fails', async (ctx) => {
  const r = await runScript('up', ['--cluster', 'sandbox'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, 'sandbox control plane: already running');
  assert.is(readState(ctx.stateFile!)!.server, ctx.state!.server);
});

test('controlplane restart kube-apiserver --down 1: the recorded plane comes back healthy with a new pid', async (ctx) => {
  const before = readState(ctx.stateFile!)!.processes.find((p) => p.name === 'kube-apiserver')!.pid;
  const r = await runScript('controlplane', ['restart', 'kube-apiserver', '--down', '1'], ctx.env!, 120_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /Restarted kube-apiserver \(pid \d+\) after 1 s down; it is healthy\./);
  const after = readState(ctx.stateFile!)!.processes.find((p) => p.name === 'kube-apiserver')!.pid;
  assert.is.not(after, before);
  const status = await runScript('controlplane', ['status'], ctx.env!, 60_000);
  assert.is(status.code, 0, show(status));
  const bad = await runScript('controlplane', ['restart', 'ingress-stand-in'], ctx.env!, 60_000);
  assert.is(bad.code, 1, show(bad));
  assert.match(bad.output, /Cannot restart 'ingress-stand-in': restartable components are etcd, kube-apiserver/);
});

test('doctor --cluster sandbox: nothing blocks; Docker and the cluster tools are not needed', async (ctx) => {
  const r = await runScript('doctor', ['--cluster', 'sandbox'], ctx.env!, 60_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /✓ Cluster \(sandbox\)\s+sandbox control plane at https:\/\/127\.0\.0\.1:\d+/);
  assert.match(r.output, /✗ Docker\s+not installed; not needed for --cluster sandbox with simulated pods \(real pods need it for their images\)\n/);
  assert.match(r.output, /✓ Pods \(sandbox\)\s+the running sandbox: pods simulated by kwok \(the running sandbox\); nothing serves traffic/);
  assert.match(r.output, /✓ Ingress controller\s+IngressClass nginx/);
  // Simulated pods: the stand-in, which doctor does not call Dapr.
  assert.match(r.output, /✓ Dapr control plane\s+the sandbox's stand-in ready \(workloads named like Dapr's; not Dapr, no sidecars\)/);
  assert.match(r.output, 'Nothing blocks `npm run up -- --env dev --cluster sandbox`.');
});

test('down --cluster sandbox --purge removes the stack and stops every process', async (ctx) => {
  const r = await runScript('down', ['--cluster', 'sandbox', '--purge'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /Removed \d+ object\(s\); namespace todo is gone\. Purge: sandbox control plane stopped \(etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, ingress-stand-in\)/);
  assert.ok(ctx.state!.processes.every((p) => !isAlive(p.pid)), 'every recorded process ended');
  assert.equal(processesUsing(ctx.state!.dir), [], 'no process still uses the sandbox folder');
  assert.not.ok(existsSync(ctx.state!.dir), 'the folder is removed');
  assert.not.ok(existsSync(ctx.stateFile!), 'the state file is removed');
});

test('down --purge with no sandbox running says so and succeeds', async (ctx) => {
  const r = await runScript('down', ['--cluster', 'sandbox', '--purge'], ctx.env!, 60_000);
  assert.is(r.code, 0, show(r));
  // A real node that another process started (the real-node suite, run beside this one by the
  // test command's lanes) is named and left alone: the only other ending the sentence may have.
  assert.match(r.output, /Nothing to remove: the sandbox control plane is not running\. Purge: the sandbox control plane was not running(\.|; A real node started by another process runs \(.+\): left alone\.)/);
});

test.run();
