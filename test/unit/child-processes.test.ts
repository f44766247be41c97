// Which programs an interrupted run passes its signal on to (lib/child-processes.ts): its own
// descendants in its process group, a shell's child included, never a detached one (the
// sandbox's control plane) nor anything under it, nor a process that has already ended.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { groupDescendants, parseStat, type ProcStat } from '../../lib/child-processes.ts';
import { REPO_ROOT } from '../../lib/repo-root.ts';

const test = suite();

test('parseStat reads pid, parent, group and state, whatever the command name holds', () => {
  assert.equal(parseStat('4242 (node) S 4200 4100 4100 0 -1 4194560 1 0'), { pid: 4242, ppid: 4200, pgrp: 4100, zombie: false });
  assert.equal(parseStat('77 (a) b (c)) Z 1 77 77 0'), { pid: 77, ppid: 1, pgrp: 77, zombie: true });
  assert.is(parseStat('not a stat line'), undefined);
  assert.ok(parseStat(readFileSync('/proc/self/stat', 'utf8')), 'this process\'s own stat parses');
});

test('groupDescendants: children and their children in the group; detached subtrees and zombies left out', () => {
  const p = (pid: number, ppid: number, pgrp: number, zombie = false): ProcStat => ({ pid, ppid, pgrp, zombie });
  const table = [
    p(10, 1, 5), // the run (group 5, led by npm)
    p(11, 10, 5), // bash -c docker ... (zx)
    p(12, 11, 5), // docker under it
    p(13, 10, 13), // the sandbox's control plane, detached
    p(14, 13, 13), // ... and its own child
    p(15, 10, 5, true), // a docker call that has ended
    p(16, 1, 5), // npm's other child: not the run's
  ];
  assert.equal(groupDescendants(table, 10, 5), [11, 12]);
  assert.equal(groupDescendants(table, 99, 5), []);
});

test('on the live process table: a child the run started gets the signal, a detached one does not', () => {
  // In a process of its own, so no child of the test runner's is ever signalled.
  const probe = [
    "import { spawn } from 'node:child_process';",
    `import { signalChildren } from ${JSON.stringify(path.join(REPO_ROOT, 'lib', 'child-processes.ts'))};`,
    "const own = spawn('sleep', ['30'], { stdio: 'ignore' });",
    "const detached = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });",
    "await Promise.all([own, detached].map((c) => new Promise((r) => c.once('spawn', r))));",
    "const signalled = signalChildren('SIGTERM');",
    "const [, signal] = await new Promise((r) => own.once('exit', (...a) => r(a)));",
    "detached.kill('SIGKILL');",
    "console.log(JSON.stringify({ own: own.pid, detached: detached.pid, signalled, signal }));",
  ].join('\n');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { own: number; detached: number; signalled: number[]; signal: string };
  assert.ok(out.signalled.includes(out.own), `the child was signalled: ${r.stdout}`);
  assert.not.ok(out.signalled.includes(out.detached), 'the detached child was left alone');
  assert.is(out.signal, 'SIGTERM');
});

test.run();
