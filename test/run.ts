// The test command: the type check and every uvu suite, each in its own process so a crashed
// suite cannot take the others down; the suites in lanes that run at once (LANES in suites.ts),
// each lane's suites in turn, or all in turn with --serial. uvu prints a summary per suite;
// this adds them up and ends with the one line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT as root } from '../lib/repo-root.ts';
import { needsFor, prepare } from './prepare.ts';
import { lanesFor, SUITES, SUITES_NEEDING, type Suite } from './suites.ts';
import { ensureDockerEngine, ensurePackages, type DockerEngine } from './system.ts';
import { cacheRoot } from '../lib/controlplane/versions.ts';
import { FileClock, formatSuiteTimes } from './file-times.ts';
import { LaneOutput } from './lane-output.ts';

export interface Counts {
  total: number;
  passed: number;
  skipped: number;
}

/** Reads uvu's closing summary ("Total: N", "Passed: N", "Skipped: N"). Undefined when absent. */
export function parseUvuSummary(output: string): Counts | undefined {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const grab = (label: string) => {
    const all = [...plain.matchAll(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'gm'))];
    return all.length ? Number(all[all.length - 1]![1]) : undefined;
  };
  const total = grab('Total');
  const passed = grab('Passed');
  if (total === undefined || passed === undefined) return undefined;
  return { total, passed, skipped: grab('Skipped') ?? 0 };
}

/** Runs a command, its output to `out` (both streams) as it comes and collected for the summary. */
function run(command: string, args: string[], out: { stdout: LaneOutput; stderr: LaneOutput }, clock?: FileClock): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const onData = (stream: LaneOutput, timed: boolean) => (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      if (timed) clock?.feed(text);
      stream.write(text);
    };
    child.stdout.on('data', onData(out.stdout, true));
    child.stderr.on('data', onData(out.stderr, false));
    child.on('close', (code, signal) => {
      out.stdout.end();
      out.stderr.end();
      resolve({ code: code ?? (signal ? 1 : 0), output });
    });
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  // --serial: one suite at a time (to time a suite alone, or read its output undisturbed).
  const serial = argv.includes('--serial') || process.env.TODO_DEPLOY_TEST_SERIAL === '1';
  const only = argv.filter((a) => a !== '--serial');
  const selected = only.length ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
  const unknown = only.filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length) {
    console.error(`Unknown suite(s): ${unknown.join(', ')}. Known: ${SUITES.map((s) => s.name).join(', ')}.`);
    return 2;
  }
  const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);
  const names = new Set(selected.map((s) => s.name));
  const needsDocker = SUITES_NEEDING.docker.some((n) => names.has(n));
  let docker: DockerEngine | undefined;
  const started = Date.now();
  try {
    const groups = Object.entries(SUITES_NEEDING).filter(([, suites]) => suites.some((n) => names.has(n))).map(([group]) => group);
    ensurePackages(groups, (line) => console.log(line));
    if (needsDocker) docker = await ensureDockerEngine(path.dirname(cacheRoot()), (line) => console.log(line));
    prepare(root, needsFor([...names]));
    console.log(`prepare: ${seconds(Date.now() - started)} in all`);
  } catch (err) {
    console.error((err as Error).message);
    await docker?.stop();
    console.log('0 passed, 1 failed');
    return 1;
  }
  try {
    return await runSuites(selected, only, bin, serial);
  } finally {
    await docker?.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

interface Outcome {
  passed: number;
  failed: number;
  skipped: number;
  /** The suite's line in the summary. */
  line: string;
}

/** One suite: uvu on its folder, its output (prefixed when suites run at once), then one line per file with its seconds. */
async function runSuite(suite: Suite, bin: (name: string) => string, prefix: string): Promise<Outcome> {
  const out = { stdout: new LaneOutput(prefix, process.stdout), stderr: new LaneOutput(prefix, process.stderr) };
  if (!existsSync(path.join(root, suite.dir))) {
    // A missing suite folder is a broken checkout, not a pass.
    return { passed: 0, failed: 1, skipped: 0, line: `${suite.name.padEnd(12)} FAILED: ${suite.dir} does not exist` };
  }
  out.stdout.write(`\n== ${suite.name}: uvu ${suite.dir}\n`);
  // One line per file with its seconds: where the suite's wall time goes.
  const clock = new FileClock((file) => existsSync(path.join(root, suite.dir, file)));
  const result = await run(bin('uvu'), ['-r', 'tsx', suite.dir, ...(suite.pattern ? [suite.pattern] : [])], out, clock);
  const times = clock.finish();
  out.stdout.write(formatSuiteTimes(suite.name, times).join('\n') + '\n');
  out.stdout.end();
  const took = ` (${seconds(times.total * 1000)})`;
  const counts = parseUvuSummary(result.output);
  if (!counts) return { passed: 0, failed: 1, skipped: 0, line: `${suite.name.padEnd(12)} FAILED: the suite crashed before its summary (exit ${result.code})${took}` };
  const suiteFailed = counts.total - counts.passed - counts.skipped;
  // A non-zero exit with all tests passed means a hook or the process failed: count it.
  const extra = result.code !== 0 && suiteFailed === 0 ? 1 : 0;
  return {
    passed: counts.passed,
    failed: suiteFailed + extra,
    skipped: counts.skipped,
    line: `${suite.name.padEnd(12)} ${counts.passed} passed, ${suiteFailed + extra} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}${took}`,
  };
}

async function runSuites(selected: Suite[], only: string[], bin: (name: string) => string, serial: boolean): Promise<number> {
  const started = Date.now();
  const lanes = lanesFor(selected.map((s) => s.name), serial);
  const typecheck = !only.length || only.includes('typecheck');
  // With more than one thing running at once, every line says whose it is.
  const together = lanes.length + (typecheck && !serial ? 1 : 0) > 1;
  const width = Math.max(9, ...selected.map((s) => s.name.length));
  const prefixOf = (name: string) => (together ? `${name.padEnd(width)} | ` : '');
  if (together) console.log(`\n== suites in ${lanes.length} lanes at once, each in turn: ${lanes.map((l) => l.join(' ')).join(' || ')}${typecheck ? ' || typecheck' : ''} (--serial: one at a time)`);
  const outcomes = new Map<string, Outcome>();

  const typechecked = async () => {
    if (!typecheck) return;
    const out = { stdout: new LaneOutput(prefixOf('typecheck'), process.stdout), stderr: new LaneOutput(prefixOf('typecheck'), process.stderr) };
    out.stdout.write('\n== typecheck: tsc --noEmit\n');
    const t = Date.now();
    const tsc = await run(bin('tsc'), ['--noEmit'], out);
    outcomes.set('typecheck', { passed: tsc.code === 0 ? 1 : 0, failed: tsc.code === 0 ? 0 : 1, skipped: 0, line: `typecheck    ${tsc.code === 0 ? 'passed' : 'FAILED'} (${seconds(Date.now() - t)})` });
  };
  const lane = async (names: string[]) => {
    for (const name of names) outcomes.set(name, await runSuite(selected.find((s) => s.name === name)!, bin, prefixOf(name)));
  };
  if (serial) {
    await typechecked();
    for (const l of lanes) await lane(l);
  } else {
    await Promise.all([typechecked(), ...lanes.map(lane)]);
  }

  const order = ['typecheck', ...selected.map((s) => s.name)].filter((n) => outcomes.has(n));
  const results = order.map((n) => outcomes.get(n)!);
  const sum = (key: 'passed' | 'failed' | 'skipped') => results.reduce((n, r) => n + r[key], 0);
  const lines = [...results.map((r) => r.line), `${'all'.padEnd(12)} ${seconds(Date.now() - started)} after preparing`];
  console.log(`\n== summary\n${lines.map((l) => `  ${l}`).join('\n')}`);
  const [passed, failed, skipped] = [sum('passed'), sum('failed'), sum('skipped')];
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
