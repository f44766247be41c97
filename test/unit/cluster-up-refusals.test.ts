// `npm run up` refusing before it touches anything (exit 2), as a person meets it: a forced
// provider's tool missing, an unknown --cluster, --context with a provider that has its own,
// --write-hosts with no terminal to ask on. PATH holds only npm, node and the shells (no
// minikube, docker, helm); the sandbox state goes to a scratch file that must stay absent.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeBin, type FakeBin } from '../fakes/harness.ts';
import { runScript, type ScriptResult } from '../support/run-script.ts';


interface Ctx {
  bin?: FakeBin;
  tmp?: string;
}

const test = suite<Ctx>('up: refusals before anything runs (exit 2)');

test.before((ctx) => {
  ctx.bin = fakeBin([], { system: ['npm', 'sh'] });
  ctx.tmp = mkdtempSync(path.join(tmpdir(), 'up-refusals-'));
});

test.after((ctx) => {
  ctx.bin?.cleanup();
  if (ctx.tmp) rmSync(ctx.tmp, { recursive: true, force: true });
});

function up(ctx: Ctx, args: string[]): Promise<ScriptResult> {
  // No terminal: runScript gives the child no stdin.
  return runScript(
    'up',
    args,
    {
      ...ctx.bin!.env(),
      HOME: ctx.tmp!,
      TODO_DEPLOY_CONTROLPLANE_STATE: path.join(ctx.tmp!, 'state.json'),
      KUBECONFIG: path.join(ctx.tmp!, 'kubeconfig'),
      OPENAI_API_KEY: 'sk-refusal-test-not-real',
      BETTER_AUTH_SECRET: 'refusal-test-auth-secret-0123456789abcdef',
      CI: 'true',
      NO_COLOR: '1',
    },
    60_000,
  );
}

test('--cluster minikube without minikube: how to install it, and --cluster sandbox', async (ctx) => {
  const r = await up(ctx, ['--cluster', 'minikube']);
  assert.is(r.code, 2, r.output);
  assert.match(r.output, 'The cluster provider minikube needs it: `minikube` is not installed');
  assert.match(r.output, 'Fix: install minikube');
  assert.match(r.output, '--cluster sandbox');
  assert.not.match(r.output, /✔ Cluster/);
});

test('the dev default on a machine without minikube, kind or a local cluster is the sandbox, and says why (doctor shows the choice up makes)', async (ctx) => {
  const r = await runScript('doctor', [], { ...ctx.bin!.env(), HOME: ctx.tmp!, KUBECONFIG: path.join(ctx.tmp!, 'kubeconfig'), TODO_DEPLOY_CONTROLPLANE_STATE: path.join(ctx.tmp!, 'state.json'), CI: 'true', NO_COLOR: '1' }, 60_000);
  assert.match(r.output, 'npm run up -- --env dev --cluster sandbox` (sandbox chosen by default: no running local cluster in the current context; neither minikube nor kind is installed)');
});

test('an unknown --cluster, and --context with minikube', async (ctx) => {
  const unknown = await up(ctx, ['--cluster', 'k3d']);
  assert.is(unknown.code, 2, unknown.output);
  assert.match(unknown.output, 'Unknown cluster provider "k3d" given to --cluster');
  const context = await up(ctx, ['--cluster', 'sandbox', '--context', 'prod-eu']);
  assert.is(context.code, 2, context.output);
  assert.match(context.output, '--context prod-eu applies to --cluster current only');
});

test('--write-hosts without a terminal and without --yes is refused before anything starts', async (ctx) => {
  const r = await up(ctx, ['--cluster', 'sandbox', '--write-hosts']);
  assert.is(r.code, 2, r.output);
  assert.match(r.output, '--write-hosts asks before it changes the hosts file, and there is no terminal to ask on');
  assert.match(r.output, 'add --yes');
  assert.not.ok(existsSync(path.join(ctx.tmp!, 'state.json')), 'the sandbox was not started');
});

test.run();
