// `npm run up` and `npm run down` as a person sees them: in a real terminal of 150×50 (tmux),
// against the sandbox with simulated pods. The screen after the run, scrollback included, is one
// task tree: each step once, in order, every finished stage collapsed to a single line with its
// duration, no spinner frame or inner list left behind, and the run's closing lines below it.
// The same run piped (no terminal) still prints listr2's plain lines, one per event.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readState } from '../../lib/controlplane/state.ts';
import { runScript, show } from '../support/run-script.ts';
import { sandboxRuns, type SandboxRuns } from '../support/sandbox-runs.ts';
import { tmuxTerminal, type Screen, type Terminal } from '../support/terminal.ts';

interface Ctx {
  runs?: SandboxRuns;
  stateFile?: string;
  env?: NodeJS.ProcessEnv;
  terminal?: Terminal;
}

const test = suite<Ctx>('up and down on a terminal (tmux 150×50): one tree, redrawn in place');

const SANDBOX = ['--cluster', 'sandbox', '--pods', 'simulated'];
// The issue's own measure: a 10-second up printed 240 lines; the tree after a deploy is about 20.
const MAX_SCREEN_LINES = 35;
const STAGES_UP = ['Namespace', 'Secrets', 'ServiceAccounts', 'Roles and RoleBindings', 'Dapr Configuration', 'Dapr Components', 'NetworkPolicies', 'Services', 'Deployments', 'Ingress'];
const STAGES_DOWN = [...STAGES_UP].reverse();
// listr2's task icons: done, skipped, failed, running (and its spinner frames), pending.
const ICON = /^(\s*)([✔↓✖❯◼⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏])\s/;
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
// A finished step's duration as the tree's timer prints it.
const DURATION = /\[\d+(?:\.\d)?(?:ms|s)\]$/;

test.before((ctx) => {
  // No CI or NO_COLOR: on a terminal the default renderer draws (the test command may run under CI=true).
  ctx.runs = sandboxRuns('todo-deploy-terminal-', { BETTER_AUTH_SECRET: 'terminal-test-auth-secret-0123456789abcdef', LANG: 'C.UTF-8' });
  ctx.stateFile = ctx.runs.stateFile;
  ctx.env = ctx.runs.env;
  ctx.terminal = tmuxTerminal(ctx.env);
});

test.after(async (ctx) => {
  ctx.terminal?.close();
  await ctx.runs?.cleanup();
});

const shown = (screen: Screen) => `exit ${screen.status}; the screen (${screen.lines.length} lines):\n${screen.lines.join('\n')}`;

/**
 * The screen holds one tree: the lines with a task icon are exactly `steps` (matched in order,
 * each once), all at the top level (no inner list drawn), none running or pending, no spinner
 * frame anywhere, and no line twice (a frame that was not erased repeats the tree's lines).
 */
function assertOneTree(screen: Screen, steps: RegExp[]): void {
  const text = shown(screen);
  assert.ok(screen.lines.length <= MAX_SCREEN_LINES, `at most ${MAX_SCREEN_LINES} lines after the run; ${text}`);
  assert.not.ok(screen.lines.some((l) => SPINNER.test(l)), `no spinner frame left on the screen; ${text}`);
  const tasks = screen.lines.filter((l) => ICON.test(l));
  assert.equal(tasks.filter((l) => ICON.exec(l)![1] !== ''), [], `no inner task list below or inside the tree; ${text}`);
  assert.equal(tasks.filter((l) => /^[❯◼]/.test(l)), [], `no step left running or pending; ${text}`);
  const filled = screen.lines.filter((l) => l.trim() !== '');
  assert.is(new Set(filled).size, filled.length, `no line twice; ${text}`);
  // The closing summary's lines start with an icon too; the tree is the first run of them.
  const tree = tasks.slice(0, steps.length);
  assert.is(tree.length, steps.length, `${steps.length} steps in the tree; ${text}`);
  steps.forEach((step, i) => assert.match(tree[i]!, step, `line ${i + 1} of the tree is ${step}; ${text}`));
}

/** A stage collapsed to one line with its duration: its objects and gates are not listed. */
const stageLine = (n: number, title: string) => new RegExp(`^✔ Stage ${n}/10 ${title} ${DURATION.source}`);

test('up on a terminal: one tree of collapsed steps, each with its duration, then the total and the outcome', async (ctx) => {
  const screen = await ctx.terminal!.run(`npm run -s up -- ${SANDBOX.join(' ')}`);
  assert.is(screen.status, 0, shown(screen));
  assertOneTree(screen, [
    /^✔ Configuration dev: namespace todo/,
    /^✔ Rendered \d+ objects in 10 stages; policy: \d+ rules passed/,
    /^✔ Cluster \(sandbox\): sandbox control plane: started at https:\/\/127\.0\.0\.1:\d+/,
    /^✔ Ingress controller: the ingress-nginx stand-in/,
    /^✔ Dapr control plane: /,
    /^↓ Images: not built for the sandbox/,
    /^✔ Release: namespace todo does not exist yet; the lock is taken and the revision recorded once stage 1 has created it/,
    /^✔ Compared with the cluster: all \d+ object\(s\) to apply/,
    ...STAGES_UP.map((title, i) => stageLine(i + 1, title)),
    /^✔ Prune: nothing managed by todo-deploy that the plan lacks /,
    /^✔ Address: none \(nothing serves traffic in the sandbox\) /,
    /^✔ Release todo-app: revision 1 deployed \(Install complete\) /,
  ]);
  const text = screen.lines.join('\n');
  // The tree carries the durations; the table that plain output closes with is not repeated.
  assert.not.match(text, 'Durations:', shown(screen));
  assert.match(text, /\nTotal \d+(?:\.\d)?(?:ms|s) \(each step's duration is on its line above\)\.\n/, shown(screen));
  assert.match(text, /\n✔ Every stage passed in namespace todo \(sandbox\)\.\nSandbox: the API server and controllers are real, but pods are simulated/, shown(screen));
});

test('down on a terminal: one tree of collapsed stages in reverse order, then what was removed', async (ctx) => {
  const screen = await ctx.terminal!.run(`npm run -s down -- ${SANDBOX.join(' ')}`);
  assert.is(screen.status, 0, shown(screen));
  assertOneTree(screen, [
    /^✔ Configuration dev: namespace todo, cluster sandbox/,
    /^✔ Cluster \(sandbox\): context \S+ at https:\/\/127\.0\.0\.1:\d+/,
    /^✔ Found \d+ object\(s\) managed by todo-deploy in namespace todo/,
    ...STAGES_DOWN.map((title, i) => stageLine(i + 1, title)),
  ]);
  const text = screen.lines.join('\n');
  assert.not.match(text, 'Durations:', shown(screen));
  assert.match(text, /\n✔ Removed \d+ object\(s\); namespace todo is gone\.$/, shown(screen));
});

test('the same up piped (no terminal): listr2\'s plain lines, each stage\'s objects and gates and the durations table', async (ctx) => {
  const r = await runScript('up', SANDBOX, ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.not.match(r.output, '\u001b[', 'no escape sequence in plain output');
  const lines = r.output.split('\n');
  STAGES_UP.forEach((title, i) => {
    assert.ok(lines.includes(`❯ Stage ${i + 1}/10 ${title}`), `a start line for stage ${i + 1}; ${show(r)}`);
    // Its duration once, in the timer's brackets (the title's own "(2.5s)" is dropped).
    assert.ok(lines.some((l) => new RegExp(`^✔ Stage ${i + 1}/10 ${title} \\[\\d+(?:\\.\\d)?(?:ms|s)\\]$`).test(l)), `an end line with the duration for stage ${i + 1}; ${show(r)}`);
  });
  // The inner steps have lines of their own, long object lists shortened.
  assert.ok(lines.some((l) => /^✔ apply Namespace\/todo \[\d+\.\ds\]$/.test(l)), show(r));
  assert.ok(lines.some((l) => /^❯ apply NetworkPolicy\/todo\/\S+, NetworkPolicy\/todo\/\S+, NetworkPolicy\/todo\/\S+ and \d+ more$/.test(l)), show(r));
  assert.match(r.output, /\nDurations:\n  cluster +\S+\n/);
  assert.match(r.output, /\n  10\. Ingress +\S+\n  total +\S+\n/);
  assert.match(r.output, '✔ Every stage passed in namespace todo (sandbox).');
});

test('down --purge piped stops the control plane this suite started', async (ctx) => {
  const r = await runScript('down', [...SANDBOX, '--purge'], ctx.env!, 300_000);
  assert.is(r.code, 0, show(r));
  assert.match(r.output, /\nDurations:\n/);
  assert.match(r.output, /Purge: sandbox control plane stopped/);
  assert.is(readState(ctx.stateFile!), undefined, 'no control plane recorded any more');
});

test.run();
