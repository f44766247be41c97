// The test command: type check, then every uvu suite in turn, each in its own process so a
// crashed suite cannot take the others down. uvu prints a summary per suite; this adds them up
// and ends with the one line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT as root } from '../lib/repo-root.ts';
import { prepare } from './prepare.ts';
import { SUITES, SUITES_NEEDING, type Suite } from './suites.ts';
import { ensureDockerEngine, ensurePackages, type DockerEngine } from './system.ts';
import { cacheRoot } from '../lib/controlplane/versions.ts';
import { FileClock, formatSuiteTimes } from './file-times.ts';

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

function run(command: string, args: string[], clock?: FileClock): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const onData = (stream: NodeJS.WriteStream) => (chunk: Buffer) => {
      output += chunk.toString();
      if (stream === process.stdout) clock?.feed(chunk.toString());
      stream.write(chunk);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function main(): Promise<number> {
  const only = process.argv.slice(2);
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
    prepare(root, {
      apps: ['backend', 'mcp-server', 'frontend', 'browser', 'images', 'integration'].some((n) => names.has(n)),
      controlPlane: names.has('integration') || names.has('unit') || names.has('real-node'),
      helm: names.has('chart') || names.has('integration'),
    });
    console.log(`prepare: ${seconds(Date.now() - started)} in all`);
  } catch (err) {
    console.error((err as Error).message);
    await docker?.stop();
    console.log('0 passed, 1 failed');
    return 1;
  }
  try {
    return await runSuites(selected, only, bin);
  } finally {
    await docker?.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function runSuites(selected: Suite[], only: string[], bin: (name: string) => string): Promise<number> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const lines: string[] = [];
  const started = Date.now();

  if (!only.length || only.includes('typecheck')) {
    console.log('\n== typecheck: tsc --noEmit');
    const started = Date.now();
    const tsc = await run(bin('tsc'), ['--noEmit']);
    if (tsc.code === 0) passed++;
    else failed++;
    lines.push(`typecheck    ${tsc.code === 0 ? 'passed' : 'FAILED'} (${seconds(Date.now() - started)})`);
  }
  for (const suite of selected) {
    if (!existsSync(path.join(root, suite.dir))) {
      // A missing suite folder is a broken checkout, not a pass.
      failed++;
      lines.push(`${suite.name.padEnd(12)} FAILED: ${suite.dir} does not exist`);
      continue;
    }
    console.log(`\n== ${suite.name}: uvu ${suite.dir}`);
    // One line per file with its seconds: where the suite's wall time goes.
    const clock = new FileClock((file) => existsSync(path.join(root, suite.dir, file)));
    const result = await run(bin('uvu'), ['-r', 'tsx', suite.dir, ...(suite.pattern ? [suite.pattern] : [])], clock);
    const times = clock.finish();
    console.log(formatSuiteTimes(suite.name, times).join('\n'));
    const took = ` (${seconds(times.total * 1000)})`;
    const counts = parseUvuSummary(result.output);
    if (!counts) {
      failed++;
      lines.push(`${suite.name.padEnd(12)} FAILED: the suite crashed before its summary (exit ${result.code})${took}`);
      continue;
    }
    const suiteFailed = counts.total - counts.passed - counts.skipped;
    // A non-zero exit with all tests passed means a hook or the process failed: count it.
    const extra = result.code !== 0 && suiteFailed === 0 ? 1 : 0;
    passed += counts.passed;
    failed += suiteFailed + extra;
    skipped += counts.skipped;
    lines.push(`${suite.name.padEnd(12)} ${counts.passed} passed, ${suiteFailed + extra} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}${took}`);
  }
  lines.push(`${'all'.padEnd(12)} ${seconds(Date.now() - started)} after preparing`);
  console.log(`\n== summary\n${lines.map((l) => `  ${l}`).join('\n')}`);
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
