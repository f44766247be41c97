// test/support/suite.ts: a `before` hook that throws fails the suite's tests with its error,
// where uvu's own suite drops the error and exits 0 (checked here too, so this test shows why
// the wrapper exists and fails if it stops doing its job). And every test file uses it.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../lib/cli.ts';

const test = suite();

const SET_UP_ERROR = 'the control plane did not start (set-up error of the sample suite)';

/** Runs uvu on one sample test file whose before hook throws; returns its exit code and output. */
function runSample(importLine: string): { code: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'todo-suite-'));
  try {
    writeFileSync(
      join(dir, 'sample.test.ts'),
      [
        importLine,
        "const test = suite('sample');",
        `test.before(async () => { throw new Error('${SET_UP_ERROR}'); });`,
        "test('first', () => {});",
        "test('second', () => {});",
        'test.run();',
        '',
      ].join('\n'),
    );
    const uvu = join(REPO_ROOT, 'node_modules/uvu/bin.js');
    const run = spawnSync(process.execPath, [uvu, '-r', 'tsx', dir, 'sample'], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    return { code: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("uvu's own suite drops a before hook's error and exits 0 (why the wrapper exists)", () => {
  // By path: the sample sits in a temporary folder, where the bare name 'uvu' does not resolve.
  const run = runSample(`import { suite } from '${join(REPO_ROOT, 'node_modules/uvu/dist/index.js')}';`);
  assert.is(run.code, 0, run.output);
  assert.not.match(run.output, SET_UP_ERROR);
  assert.match(run.output, '(0 / 2)');
});

test("the wrapper fails every test with the before hook's error, and the run exits 1", () => {
  const run = runSample(`import { suite } from '${join(REPO_ROOT, 'test/support/suite.ts')}';`);
  assert.is(run.code, 1, run.output);
  assert.match(run.output, SET_UP_ERROR);
  assert.match(run.output, '(0 / 2)');
  assert.match(run.output, 'Passed:    0');
});

/** Every .ts file under a folder, skipping node_modules. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

test("no test file takes a value from 'uvu' itself (types are fine): suites come from test/support/suite.ts", () => {
  const roots = ['test', 'bench', ...readdirSync(join(REPO_ROOT, 'apps')).map((app) => join('apps', app, 'test'))];
  const files = roots.flatMap((root) => {
    const dir = join(REPO_ROOT, root);
    try {
      return statSync(dir).isDirectory() ? tsFiles(dir) : [];
    } catch {
      return [];
    }
  });
  assert.ok(files.length > 50, `only ${files.length} files found`);
  const offenders = files
    .filter((f) => !f.endsWith(join('test', 'support', 'suite.ts')))
    .filter((f) => /^import (?!type )[^;]*from 'uvu';/m.test(readFileSync(f, 'utf8')))
    .map((f) => relative(REPO_ROOT, f));
  assert.equal(offenders, []);
});

test.run();
