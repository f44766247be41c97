// Reading and writing charts/todo-app on disk: the sources it is generated from, and the
// files it holds now. The generation itself is lib/chart.ts (pure).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { CHART_DIR, generateChart, type ChartSources } from './chart.ts';
import { envFilePath } from './config.ts';
import { manifestFiles } from './manifests.ts';

/** The manifests (of the repository, or of the folder given) and the env files the chart is generated from. */
export function readChartSources(repoRoot: string, manifestsDir = path.join(repoRoot, 'manifests'), options: { lenient?: boolean } = {}): ChartSources {
  const manifests: Record<string, string> = {};
  for (const abs of manifestFiles(manifestsDir)) manifests[path.basename(abs)] = readFileSync(abs, 'utf8');
  // Lenient (a release record): a missing env file or package.json leaves its values empty instead of failing the run.
  const read = (file: string) => (options.lenient && !existsSync(path.join(repoRoot, file)) ? undefined : readFileSync(path.join(repoRoot, file), 'utf8'));
  const settings = (env: string) => parseDotenv(read(envFilePath(env)) ?? '');
  const pkg = JSON.parse(read('package.json') ?? '{"version":"0.0.0"}') as { version: string };
  return { manifests, devSettings: settings('dev'), prodSettings: settings('prod'), appVersion: pkg.version };
}

/** Every file under a folder, path relative to it -> text. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel))) {
      const child = rel ? `${rel}/${entry}` : entry;
      if (statSync(path.join(dir, child)).isDirectory()) walk(child);
      else out[child] = readFileSync(path.join(dir, child), 'utf8');
    }
  };
  walk('');
  return out;
}

/** The files that differ between the chart on disk and the generated one (added, changed or stale). */
export function chartDrift(repoRoot: string): string[] {
  const want = generateChart(readChartSources(repoRoot));
  const have = readTree(path.join(repoRoot, CHART_DIR));
  const names = new Set([...Object.keys(want), ...Object.keys(have)]);
  return [...names].filter((n) => want[n] !== have[n]).sort();
}

/** Rewrites the chart folder from the sources; returns the files written or removed. */
export function writeChart(repoRoot: string): string[] {
  const drift = chartDrift(repoRoot);
  const dir = path.join(repoRoot, CHART_DIR);
  const want = generateChart(readChartSources(repoRoot));
  for (const name of drift) {
    const abs = path.join(dir, name);
    if (want[name] === undefined) rmSync(abs);
    else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, want[name]);
    }
  }
  return drift;
}
