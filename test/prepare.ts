// What the suites need before they run, done by the test command itself so that
// `npm ci && npm test` works on a fresh clone: each app's packages and build, and the control
// plane's and the real node's programs. Every step is skipped when its result is already
// current, so a second run costs a few file reads.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const APPS = ['apps/backend', 'apps/mcp-server', 'apps/frontend'] as const;

/**
 * Newest modification time under a folder (files only). Links are followed, so a change in
 * apps/shared (the backend's and mcp-server's src/shared) makes both builds stale.
 */
export function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    const stat = statSync(full);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(full) : stat.mtimeMs);
  }
  return newest;
}

function hashFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function run(root: string, what: string, command: string, args: string[], cwd: string): void {
  console.log(`prepare: ${what}`);
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: path.join(root, cwd), stdio: 'inherit', env: process.env });
  if (result.status !== 0) {
    throw new Error(`prepare: ${what} failed (exit ${result.status ?? result.signal}). Run \`${command} ${args.join(' ')}\` in ${cwd} to see why.`);
  }
  console.log(`prepare: ${what} done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/** npm ci when the lockfile changed since the last install (its hash is kept in node_modules). */
function installApp(root: string, app: string): void {
  const lock = path.join(root, app, 'package-lock.json');
  const marker = path.join(root, app, 'node_modules', '.todo-deploy-lock-sha256');
  const want = hashFile(lock);
  if (existsSync(marker) && readFileSync(marker, 'utf8') === want) return;
  run(root, `npm ci in ${app}`, 'npm', ['ci', '--no-audit', '--no-fund'], app);
  writeFileSync(marker, want);
}

/** npm run build when a source is newer than the build output. */
function buildApp(root: string, app: string): void {
  const dist = newestMtime(path.join(root, app, 'dist'));
  const sources = Math.max(newestMtime(path.join(root, app, 'src')), statSync(path.join(root, app, 'package.json')).mtimeMs);
  if (dist > 0 && dist >= sources) return;
  run(root, `build ${app}`, 'npm', ['run', 'build'], app);
}

/** build.sh's groups for the suites' needs: the control plane and the real node, the registry only for a suite that runs one, Dapr only for the suite whose up installs it. Pure. */
export function buildGroupsFor(needs: { controlPlane: boolean; registry?: boolean; dapr?: boolean }): string[] {
  return [...(needs.controlPlane ? ['controlplane', 'node'] : []), ...(needs.registry ? ['registry'] : []), ...(needs.dapr ? ['dapr'] : [])];
}

export interface Needs {
  apps: boolean;
  controlPlane: boolean;
  registry?: boolean;
  dapr?: boolean;
  helm?: boolean;
}

/** What a run of these suites needs prepared (a plain `npm test` runs them all, prod-path included). Pure. */
export function needsFor(names: readonly string[]): Needs {
  const has = (...suites: string[]) => suites.some((n) => names.includes(n));
  return {
    apps: has('backend', 'mcp-server', 'frontend', 'browser', 'images', 'integration'),
    controlPlane: has('integration', 'unit', 'real-node', 'prod-path'),
    // The registry is built only for the suite that runs one.
    registry: has('prod-path'),
    // The real node's up installs the Dapr built here with the real helm (prod-path installs the stand-in).
    dapr: has('real-node'),
    helm: has('chart', 'integration', 'real-node'),
  };
}

export function prepare(root: string, needs: Needs): void {
  if (needs.apps) {
    for (const app of APPS) {
      installApp(root, app);
      buildApp(root, app);
    }
  }
  // build.sh builds the groups named (control plane and real node; the registry only when a
  // suite runs one; Dapr only for the real-node suite) and skips each one already built for
  // its pinned versions; it prints progress while a group builds.
  const groups = buildGroupsFor(needs);
  if (groups.length) run(root, `sandbox programs: ${groups.join(', ')} (lib/controlplane/build/build.sh)`, 'bash', ['lib/controlplane/build/build.sh', ...groups], '.');
  // The real helm reads the release records and lints the chart; built once from the Go module proxy.
  if (needs.helm) run(root, 'helm (npx tsx bench/tools.ts --only helm)', process.execPath, ['--import', 'tsx', 'bench/tools.ts', '--only', 'helm'], '.');
}
