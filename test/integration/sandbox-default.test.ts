// A newcomer's `npm run up` on a machine like this one: no --cluster, no minikube or kind on
// PATH, so dev chooses the sandbox and says why. Two such runs started together on a stopped
// sandbox start exactly one control plane (the start is locked), and both use it (the release
// lock may refuse one of them the namespace while the other deploys); `down --purge` then
// stops every process either run started.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { isAlive } from '../../lib/controlplane/processes.ts';
import { readState } from '../../lib/controlplane/state.ts';
import { runScript, show } from '../support/run-script.ts';
import { sandboxRuns, type SandboxRuns } from '../support/sandbox-runs.ts';

interface Ctx {
  runs?: SandboxRuns;
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
}

const test = suite<Ctx>('sandbox as the dev default: two ups at once, one control plane');

test.before((ctx) => {
  ctx.runs = sandboxRuns('todo-deploy-default-', { BETTER_AUTH_SECRET: 'sandbox-default-auth-secret-0123456789abcdef', CI: 'true', NO_COLOR: '1' });
  ctx.stateFile = ctx.runs.stateFile;
  ctx.env = ctx.runs.env;
});

test.after(async (ctx) => {
  await ctx.runs?.cleanup();
});

/**
 * The processes these runs started: the control plane's programs inherit the run's
 * environment, so they carry this suite's own TODO_DEPLOY_CONTROLPLANE_STATE (other suites
 * and other people's planes on the machine do not).
 */
function processesOf(stateFile: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`TODO_DEPLOY_CONTROLPLANE_STATE=${stateFile}`)) continue;
      found.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim() });
    } catch {
      // ended meanwhile, or not ours to read
    }
  }
  return found;
}

test('two ups without --cluster at once: the sandbox is chosen and said why; one starts it, the other waits and uses it', async (ctx) => {
  const [a, b] = await Promise.all([runScript('up', [], ctx.env!, 600_000), runScript('up', [], ctx.env!, 600_000)]);
  // Both reach the one control plane; in the namespace, the release lock (issue 12) lets one
  // deploy at a time, so the other either deploys after it or is refused naming the holder.
  const refused = [a, b].filter((r) => r.code === 1 && /Another run holds the lock on namespace todo/.test(r.output));
  assert.ok(refused.length <= 1, `at most one run refused by the lock:\n${show(a)}\n----\n${show(b)}`);
  for (const r of [a, b]) if (!refused.includes(r)) assert.is(r.code, 0, show(r));
  for (const r of [a, b]) {
    assert.match(r.output, 'cluster sandbox (chosen by default: no running local cluster in the current context; neither minikube nor kind is installed)');
    assert.match(r.output, 'chat is off (no OPENAI_API_KEY');
  }
  const starts = [a, b].filter((r) => /sandbox control plane: started at/.test(r.output));
  assert.is(starts.length, 1, `exactly one run started the control plane:\n${a.output}\n----\n${b.output}`);
  const state = readState(ctx.stateFile!);
  assert.ok(state);
  for (const r of [a, b]) assert.match(r.output, state!.server);
  // No second plane was started by either run: every process they left is one the state records.
  const recorded = new Set(state!.processes.map((p) => p.pid));
  const left = processesOf(ctx.stateFile!);
  assert.ok(left.length >= state!.processes.length, JSON.stringify(left));
  assert.equal(left.filter((p) => !recorded.has(p.pid)), [], 'no process outside the recorded control plane');
});

test('down --purge without --cluster stops every process the runs started', async (ctx) => {
  const state = readState(ctx.stateFile!)!;
  const r = await runScript('down', ['--purge'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, 'cluster sandbox (chosen by default');
  assert.ok(state.processes.every((p) => !isAlive(p.pid)), 'every recorded process ended');
  assert.equal(processesOf(ctx.stateFile!), [], 'no process either run started is left');
});

test.run();
