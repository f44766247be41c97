// `npm run doctor` as a person runs it, on a machine missing minikube and helm: PATH holds only
// fake-docker (a daemon that answers), fake-dapr, node, npm and the shells. The checks are for
// --cluster minikube (without it, dev would choose the sandbox on such a machine), so that
// line is ✗ and blocks (exit 1); the Dapr CLI stands in for helm.
// A second run with the Docker daemon down adds that line. Nothing but those fakes is asked.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeBin, type FakeBin } from '../fakes/harness.ts';
import { runScript, type ScriptResult } from '../support/run-script.ts';


function doctor(bin: FakeBin, home: string, args: string[] = ['--cluster', 'minikube']): Promise<ScriptResult> {
  return runScript(
    'doctor',
    args,
    {
      ...bin.env(),
      HOME: home,
      // Secrets as CI passes them, so the configuration check passes and the tools decide.
      OPENAI_API_KEY: 'sk-doctor-test-not-real',
      BETTER_AUTH_SECRET: 'doctor-test-auth-secret-0123456789abcdef',
      KUBECONFIG: path.join(home, 'no-kubeconfig'),
      NO_COLOR: '1',
    },
    60_000,
  );
}

const test = suite<{ bin?: FakeBin; home?: string }>('doctor: npm run doctor without minikube and helm');

test.before((ctx) => {
  // npm itself resolves through the fake bin folder: its node is the one running this test.
  ctx.bin = fakeBin(['docker', 'dapr'], { system: ['npm', 'sh'] });
  ctx.home = mkdtempSync(path.join(tmpdir(), 'doctor-home-'));
});

test.after((ctx) => {
  ctx.bin?.cleanup();
  if (ctx.home) rmSync(ctx.home, { recursive: true, force: true });
});

const row = (output: string, name: string) => output.split('\n').find((l) => /^[✓✗] /.test(l) && l.slice(2).startsWith(name));

test('the right lines and exit 1', async (ctx) => {
  const r = await doctor(ctx.bin!, ctx.home!);
  assert.is(r.code, 1, r.output);
  assert.match(row(r.output, 'Node.js')!, /^✓ Node\.js\s+22\./);
  assert.match(row(r.output, 'Configuration')!, /^✓/);
  assert.match(row(r.output, 'Docker')!, /^✓ Docker\s+daemon 28\.5\.1 reachable$/);
  const tool = row(r.output, 'minikube or kind')!;
  assert.match(tool, /^✗ minikube or kind\s+minikube not installed; kind not installed; minikube is the cluster provider\s+\[blocks up\]$/);
  const fix = r.output.split('\n')[r.output.split('\n').indexOf(tool) + 1]!;
  assert.match(fix, 'Fix: install minikube');
  assert.match(fix, '--cluster sandbox');
  assert.match(row(r.output, 'helm or dapr')!, /^✓ helm or dapr\s+Dapr CLI 1\.16\.5 \(installs Dapr when it is missing\); helm not installed$/);
  assert.match(row(r.output, 'Cluster (minikube)')!, /^✗ Cluster \(minikube\)\s+not checked: minikube is not installed$/);
  assert.match(row(r.output, 'Dapr control plane')!, 'up installs Dapr 1.16.0 with the Dapr CLI');
  assert.match(r.output, '1 problem(s) block `npm run up -- --env dev --cluster minikube`: minikube or kind.');
  // Only the fakes on PATH were asked, and only for versions and the daemon.
  assert.equal(ctx.bin!.calls().map((c) => `${c.tool} ${c.argv.join(' ')}`).sort(), ['dapr --version', 'docker info --format {{.ServerVersion}}']);
});

test('with the Docker daemon down, that line blocks too, with the fix', async (ctx) => {
  ctx.bin!.setState({ dockerDown: true });
  const r = await doctor(ctx.bin!, ctx.home!);
  assert.is(r.code, 1, r.output);
  assert.match(row(r.output, 'Docker')!, /^✗ Docker\s+installed, but the daemon does not answer \(Cannot connect to the Docker daemon/);
  assert.match(r.output, 'Fix: start the Docker engine');
  assert.match(r.output, '2 problem(s) block');
});

test('--help explains and exits 0; an unknown provider is a usage error (exit 2)', async (ctx) => {
  const help = await doctor(ctx.bin!, ctx.home!, ['--help']);
  assert.is(help.code, 0);
  assert.match(help.output, 'Usage: npm run doctor');
  const bad = await doctor(ctx.bin!, ctx.home!, ['--cluster', 'k3d']);
  assert.is(bad.code, 2);
  assert.match(bad.output, 'Unknown cluster provider "k3d"');
});

test.run();
