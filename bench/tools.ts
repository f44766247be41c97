// The peer tools of the benchmark, built from the Go module proxy (the only place this
// machine and CI can get them from): kubectl at the control plane's Kubernetes release,
// helm and kapp at the versions in bench/tools/versions.env. Binaries go to a cache folder
// outside the repo named for the versions, and a tool already built there is not rebuilt.
//
//   npx tsx bench/tools.ts            build what is missing, print versions and paths
//   npx tsx bench/tools.ts --force    rebuild all three
//   npx tsx bench/tools.ts --only helm   just one tool (the test command builds helm this way)
//   npx tsx bench/tools.ts --pin      rewrite bench/tools/{kubectl,kapp}/go.mod from the versions, then build
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readVersions as readControlPlaneVersions, versionsFile as controlPlaneVersionsFile } from '../lib/controlplane/versions.ts';

export const benchDir = import.meta.dirname;
export const toolVersionsFile = join(benchDir, 'tools', 'versions.env');
export const kubectlModuleDir = join(benchDir, 'tools', 'kubectl');
export const kappModuleDir = join(benchDir, 'tools', 'kapp');

export const TOOLS = ['kubectl', 'helm', 'kapp'] as const;
export type Tool = (typeof TOOLS)[number];

export interface ToolVersions {
  /** Kubernetes release of kubectl (lib/controlplane/build/versions.env K8S_VERSION), e.g. 1.34.4 */
  kubectl: string;
  /** helm's module path, helm.sh/helm/v3 or helm.sh/helm/v4 */
  helmModule: string;
  helm: string;
  kapp: string;
}

const RELEASE = /^\d+\.\d+\.\d+$/;

/** Parses bench/tools/versions.env (KEY=value lines, # comments); kubectl's release comes from the control plane. Pure. */
export function parseToolVersions(text: string, kubectl: string, file = toolVersionsFile): ToolVersions {
  const values: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2].trim();
  }
  const release = (key: string) => {
    const value = (values[key] ?? '').replace(/^v/, '');
    if (!value) throw new Error(`${file}: ${key} is missing. Add a line ${key}=<version>, e.g. ${key}=1.2.3.`);
    if (!RELEASE.test(value)) throw new Error(`${file}: ${key} must be a release like 1.2.3, not '${values[key]}'.`);
    return value;
  };
  const helmModule = values.HELM_MODULE ?? '';
  if (!/^helm\.sh\/helm\/v[34]$/.test(helmModule)) {
    throw new Error(`${file}: HELM_MODULE must be helm.sh/helm/v3 or helm.sh/helm/v4, not '${helmModule}'.`);
  }
  const helm = release('HELM_VERSION');
  if (!helm.startsWith(helmModule.slice(-1) + '.')) {
    throw new Error(`${file}: HELM_VERSION ${helm} is not a release of ${helmModule}. Make the major versions agree.`);
  }
  return { kubectl, helmModule, helm, kapp: release('KAPP_VERSION') };
}

export function readToolVersions(): ToolVersions {
  return parseToolVersions(readFileSync(toolVersionsFile, 'utf8'), readControlPlaneVersions().kubernetes);
}

/** ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/bench-tools/kubectl-X_helm-Y_kapp-Z. Pure. */
export function toolsDirFor(v: ToolVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : join(env.HOME || home, '.cache');
  return join(base, 'todo-deploy', 'bench-tools', `kubectl-${v.kubectl}_helm-${v.helm}_kapp-${v.kapp}`);
}

export function describeToolVersions(v: ToolVersions): string {
  return `kubectl v${v.kubectl} (k8s.io/kubernetes/cmd/kubectl), helm v${v.helm} (${v.helmModule}/cmd/helm), kapp v${v.kapp} (carvel.dev/kapp/cmd/kapp)`;
}

/** How one tool is built: a `go install module@version` or a `go build` inside a module of ours. Pure. */
export function buildCommand(tool: Tool, v: ToolVersions): { args: string[]; cwd?: string; goBin: boolean } {
  const strip = '-s -w';
  switch (tool) {
    case 'kubectl': {
      // The version kubectl prints comes from these variables (the release build sets them the same way).
      const minor = v.kubectl.split('.')[1];
      const x = (pkg: string) => [`-X ${pkg}.gitVersion=v${v.kubectl}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`].join(' ');
      const ldflags = `${strip} ${x('k8s.io/client-go/pkg/version')} ${x('k8s.io/component-base/version')}`;
      return { args: ['build', '-mod=readonly', '-trimpath', `-ldflags=${ldflags}`, '-o', '{out}/kubectl', 'k8s.io/kubernetes/cmd/kubectl'], cwd: kubectlModuleDir, goBin: false };
    }
    case 'helm':
      return { args: ['install', '-trimpath', `-ldflags=${strip} -X ${v.helmModule}/internal/version.version=v${v.helm}`, `${v.helmModule}/cmd/helm@v${v.helm}`], goBin: true };
    case 'kapp':
      // Not `go install carvel.dev/kapp/cmd/kapp@v...`: that also asks the proxy for the module's
      // version list (for deprecation notices), which the proxy refuses for carvel.dev/kapp.
      return { args: ['build', '-mod=readonly', '-trimpath', `-ldflags=${strip} -X carvel.dev/kapp/pkg/kapp/version.Version=${v.kapp}`, '-o', '{out}/kapp', 'carvel.dev/kapp/cmd/kapp'], cwd: kappModuleDir, goBin: false };
  }
}

/** The arguments that make a tool print its version. Pure. */
export function versionArgs(tool: Tool): string[] {
  return tool === 'kubectl' ? ['version', '--client'] : tool === 'helm' ? ['version', '--short'] : ['version'];
}

interface RunResult {
  code: number | null;
  output: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (d: Buffer) => {
      const text = d.toString();
      output += text;
      if (opts.onLine) for (const line of text.split('\n')) if (line.trim()) opts.onLine(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, output }));
  });
}

function goEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Never fetch another toolchain (no internet beyond the module proxy); never stamp VCS info.
  return { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim(), ...extra };
}

async function moduleVersion(dir: string, module: string): Promise<string> {
  const r = await run('go', ['list', '-m', '-f', '{{.Version}}', module], { cwd: dir, env: goEnv() });
  return r.code === 0 ? r.output.trim() : '';
}

/** The committed go.mod files of bench/tools/kubectl and bench/tools/kapp must build the pinned releases. */
export async function checkPins(v: ToolVersions): Promise<void> {
  const checks = [
    { dir: kubectlModuleDir, module: 'k8s.io/kubernetes', want: v.kubectl, source: `${controlPlaneVersionsFile} (K8S_VERSION)` },
    { dir: kappModuleDir, module: 'carvel.dev/kapp', want: v.kapp, source: `${toolVersionsFile} (KAPP_VERSION)` },
  ];
  for (const c of checks) {
    const got = await moduleVersion(c.dir, c.module);
    if (got !== `v${c.want}`) {
      throw new Error(
        `${c.dir}/go.mod builds ${c.module} ${got || '(unreadable)'}, but ${c.source} says ${c.want}. ` +
          'Fix: run `npx tsx bench/tools.ts --pin` to rewrite the build modules from the versions, and commit their go.mod and go.sum.',
      );
    }
  }
}

async function goSteps(dir: string, steps: string[][], log: (line: string) => void): Promise<void> {
  rmSync(join(dir, 'go.mod'), { force: true });
  rmSync(join(dir, 'go.sum'), { force: true });
  mkdirSync(dir, { recursive: true });
  for (const args of steps) {
    log(`go ${args.length > 6 ? `${args.slice(0, 3).join(' ')} ... (${args.length - 2} replaces)` : args.join(' ')}`);
    const r = await run('go', args, { cwd: dir, env: goEnv() });
    if (r.code !== 0) throw new Error(`go ${args.slice(0, 2).join(' ')} failed in ${dir}:\n${r.output}`);
  }
}

/**
 * Rewrites the two build modules. kubectl: k8s.io/kubernetes at the release, its staging
 * modules replaced by v0.<minor>.<patch>. kapp: carvel.dev/kapp as a tool dependency.
 */
export async function pinModules(v: ToolVersions, log: (line: string) => void): Promise<void> {
  const staging = `v0.${v.kubectl.split('.').slice(1).join('.')}`;
  const dl = await run('go', ['mod', 'download', '-json', `k8s.io/kubernetes@v${v.kubectl}`], { env: goEnv(), cwd: benchDir });
  const goMod = /"GoMod":\s*"([^"]+)"/.exec(dl.output)?.[1];
  if (dl.code !== 0 || !goMod) throw new Error(`could not download k8s.io/kubernetes@v${v.kubectl} from the module proxy:\n${dl.output}`);
  // Every module k8s.io/kubernetes requires at v0.0.0 is a staging module it replaces with a
  // folder of its own repository; outside it they are replaced by their published versions.
  const modules = [...new Set([...readFileSync(goMod, 'utf8').matchAll(/^\s*(k8s\.io\/[a-z0-9-]+) v0\.0\.0$/gm)].map((m) => m[1]))].sort();
  await goSteps(
    kubectlModuleDir,
    [
      ['mod', 'init', 'todo-deploy/bench/tools/kubectl'],
      ['mod', 'edit', '-go=1.26.0'],
      ['mod', 'edit', ...modules.map((m) => `-replace=${m}=${m}@${staging}`)],
      ['get', '-tool', `k8s.io/kubernetes/cmd/kubectl@v${v.kubectl}`],
      ['mod', 'tidy'],
    ],
    log,
  );
  await goSteps(
    kappModuleDir,
    [
      ['mod', 'init', 'todo-deploy/bench/tools/kapp'],
      ['mod', 'edit', '-go=1.26.0'],
      ['get', '-tool', `carvel.dev/kapp/cmd/kapp@v${v.kapp}`],
      ['mod', 'tidy'],
    ],
    log,
  );
}

export interface BuiltTool {
  tool: Tool;
  path: string;
  /** What the binary says its version is. */
  version: string;
  /** Seconds the build took (the original build's, when it came from the cache). */
  buildSeconds: number;
  fromCache: boolean;
}

export interface Toolbox {
  versions: ToolVersions;
  dir: string;
  tools: Record<Tool, BuiltTool>;
}

/** The first line of `<tool> version` output that names a version. Pure. */
export function versionLine(tool: Tool, output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const hit = lines.find((l) => (tool === 'kubectl' ? /^Client Version/.test(l) : /\d+\.\d+\.\d+/.test(l)));
  return hit ?? lines[0] ?? '(no version output)';
}

/** Builds one tool when it is missing (or with force) and returns the binary with its version. */
export async function ensureTool(tool: Tool, options: { force?: boolean; log?: (line: string) => void; versions?: ToolVersions } = {}): Promise<BuiltTool> {
  const log = options.log ?? (() => {});
  const versions = options.versions ?? readToolVersions();
  const dir = toolsDirFor(versions);
  const binDir = join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const path = join(binDir, tool);
  const stamp = join(dir, `${tool}.built.json`);
  let buildSeconds: number;
  let fromCache = false;
  if (!options.force && existsSync(path) && existsSync(stamp)) {
    buildSeconds = JSON.parse(readFileSync(stamp, 'utf8')).seconds;
    fromCache = true;
  } else {
    const cmd = buildCommand(tool, versions);
    const staging = mkdtempSync(join(dir, `build-${tool}-`));
    try {
      const args = cmd.args.map((a) => a.replace('{out}', staging));
      log(`building ${tool}: go ${args.filter((a) => !a.startsWith('-ldflags')).join(' ')}${cmd.cwd ? ` (in ${cmd.cwd})` : ''}`);
      const started = Date.now();
      const r = await run('go', args, { cwd: cmd.cwd ?? staging, env: goEnv(cmd.goBin ? { GOBIN: staging } : {}) });
      if (r.code !== 0) throw new Error(`building ${tool} failed (go exited ${r.code}):\n${r.output.trim().split('\n').slice(-30).join('\n')}`);
      buildSeconds = Math.round((Date.now() - started) / 100) / 10;
      renameSync(join(staging, tool), path);
      writeFileSync(stamp, JSON.stringify({ seconds: buildSeconds, builtAt: new Date().toISOString(), versions }, null, 2) + '\n');
      log(`built ${tool} in ${buildSeconds} s`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const out = await run(path, versionArgs(tool), { env: { ...process.env, KUBECONFIG: '/dev/null' } });
  return { tool, path, version: versionLine(tool, out.output), buildSeconds, fromCache };
}

/** Builds what is missing (or everything with force) and returns the binaries with their versions. */
export async function ensureTools(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<Toolbox> {
  const versions = readToolVersions();
  await checkPins(versions);
  const tools = {} as Record<Tool, BuiltTool>;
  for (const tool of TOOLS) tools[tool] = await ensureTool(tool, { ...options, versions });
  return { versions, dir: toolsDirFor(versions), tools };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({ options: { pin: { type: 'boolean' }, force: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(`Usage: npx tsx bench/tools.ts [--pin] [--force] [--only TOOL]

Builds kubectl, helm and kapp for the benchmark from the Go module proxy into
\${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/bench-tools/<versions>/bin (kept between runs).
Versions: bench/tools/versions.env (helm, kapp); kubectl follows K8S_VERSION in
lib/controlplane/build/versions.env.

  --force   rebuild even when a tool is already built
  --only T  build (or find) just one tool: kubectl, helm or kapp
  --pin     rewrite the go.mod/go.sum of bench/tools/kubectl (K8S_VERSION) and
            bench/tools/kapp (KAPP_VERSION), then build`);
    return;
  }
  const log = (line: string) => console.log(`[bench tools] ${line}`);
  if (values.only !== undefined) {
    if (!(TOOLS as readonly string[]).includes(values.only)) throw new Error(`--only takes one of ${TOOLS.join(', ')}, not '${values.only}'.`);
    const t = await ensureTool(values.only as Tool, { force: values.force, log });
    log(`${t.tool}: ${t.path} — ${t.version} (build ${t.buildSeconds} s${t.fromCache ? ', cached' : ''})`);
    return;
  }
  const versions = readToolVersions();
  log(describeToolVersions(versions));
  if (values.pin) await pinModules(versions, log);
  const box = await ensureTools({ force: values.force, log });
  for (const t of Object.values(box.tools)) log(`${t.tool}: ${t.path} — ${t.version} (build ${t.buildSeconds} s${t.fromCache ? ', cached' : ''})`);
}

if (resolve(process.argv[1] ?? '') === resolve(import.meta.filename)) {
  cli().catch((err: Error) => {
    console.error(`bench tools: ${err.message}`);
    process.exit(1);
  });
}

/** kube-score's pinned release (bench/tools/versions.env KUBE_SCORE_VERSION). */
export function kubeScoreVersion(text = readFileSync(toolVersionsFile, 'utf8')): string {
  const value = /^KUBE_SCORE_VERSION=(\S+)$/m.exec(text)?.[1]?.replace(/^v/, '') ?? '';
  if (!RELEASE.test(value)) throw new Error(`${toolVersionsFile}: KUBE_SCORE_VERSION must be a release like 1.20.0, not '${value}'.`);
  return value;
}

/**
 * kube-score, the validate scenario's peer, built on first use with `go install` (its module
 * lists its versions, unlike kapp's) into a cache folder of its own, so the other tools'
 * folder keeps its name.
 */
export async function ensureKubeScore(log: (line: string) => void = () => {}, env: NodeJS.ProcessEnv = process.env): Promise<{ path: string; version: string; buildSeconds: number; fromCache: boolean }> {
  const version = kubeScoreVersion();
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : join(env.HOME || homedir(), '.cache');
  const dir = join(base, 'todo-deploy', 'bench-tools', `kube-score-${version}`);
  const path = join(dir, 'bin', 'kube-score');
  const stamp = join(dir, 'kube-score.built.json');
  if (existsSync(path) && existsSync(stamp)) {
    return { path, version: `kube-score ${version}`, buildSeconds: JSON.parse(readFileSync(stamp, 'utf8')).seconds, fromCache: true };
  }
  mkdirSync(join(dir, 'bin'), { recursive: true });
  log(`building kube-score: go install github.com/zegl/kube-score/cmd/kube-score@v${version}`);
  const started = Date.now();
  const r = await run('go', ['install', '-trimpath', '-ldflags=-s -w', `github.com/zegl/kube-score/cmd/kube-score@v${version}`], { cwd: dir, env: goEnv({ GOBIN: join(dir, 'bin') }) });
  if (r.code !== 0) throw new Error(`building kube-score failed (go exited ${r.code}):\n${r.output.trim().split('\n').slice(-30).join('\n')}`);
  const buildSeconds = Math.round((Date.now() - started) / 100) / 10;
  writeFileSync(stamp, JSON.stringify({ seconds: buildSeconds, builtAt: new Date().toISOString(), version }, null, 2) + '\n');
  return { path, version: `kube-score ${version}`, buildSeconds, fromCache: false };
}
