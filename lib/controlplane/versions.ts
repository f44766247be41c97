// The sandbox's versions live in one file, lib/controlplane/build/versions.env, read by the
// build script and by this module. Every group of programs is built into a cache folder named
// for its own version, so changing one pin rebuilds only that group and a change of version
// can never run stale binaries. This module knows that layout (the same rule as build.sh,
// which a unit test checks through `build.sh --print-layout`).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../repo-root.ts';

export interface ControlPlaneVersions {
  /** Kubernetes release of kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl, e.g. 1.34.4 */
  kubernetes: string;
  /** etcd server release, e.g. 3.6.16 */
  etcd: string;
  /** kwok release, e.g. 0.8.0 */
  kwok: string;
  /** containerd release (with containerd-shim-runc-v2 and ctr), e.g. 2.4.2 */
  containerd: string;
  /** runc release expected on PATH (Debian's package, not built), e.g. 1.1.5 */
  runc: string;
  /** containernetworking/plugins release (bridge, host-local, loopback, portmap), e.g. 1.10.0 */
  cniPlugins: string;
  /** CoreDNS release, e.g. 1.15.0 */
  coredns: string;
  /** pause image tag, built from k8s.io/kubernetes build/pause/linux/pause.c, e.g. 3.10.1 */
  pause: string;
  /** kube-router release, the real node's NetworkPolicy controller (its firewall alone), e.g. 2.1.0 */
  kubeRouter: string;
  /** Dapr release of daprd, operator, injector, sentry, placement, scheduler and the chart (github.com/dapr/dapr), e.g. 1.16.0 */
  dapr: string;
  /** Traefik release, the real node's ingress controller, e.g. 3.6.12 */
  traefik: string;
  /** The CNCF Distribution registry's release (cmd/registry), the sandbox's image registry, e.g. 3.1.2 */
  distribution: string;
}

export const versionsFile = join(REPO_ROOT, 'lib', 'controlplane', 'build', 'versions.env');
export const buildScript = join(REPO_ROOT, 'lib', 'controlplane', 'build', 'build.sh');

const KEYS = {
  K8S_VERSION: 'kubernetes',
  ETCD_VERSION: 'etcd',
  KWOK_VERSION: 'kwok',
  CONTAINERD_VERSION: 'containerd',
  RUNC_VERSION: 'runc',
  CNI_PLUGINS_VERSION: 'cniPlugins',
  COREDNS_VERSION: 'coredns',
  PAUSE_VERSION: 'pause',
  KUBE_ROUTER_VERSION: 'kubeRouter',
  DAPR_VERSION: 'dapr',
  TRAEFIK_VERSION: 'traefik',
  DISTRIBUTION_VERSION: 'distribution',
} as const satisfies Record<string, keyof ControlPlaneVersions>;
type Key = keyof typeof KEYS;

/**
 * What build.sh builds, one group per build (one `go build` for programs that share
 * packages): the folder is `<group>-<version>`, the stamp `complete` in it records the
 * versions it was built from (`inputs`) and build.sh's `recipe` number for the group, bumped
 * when how it is built changes (flags, version strings, CoreDNS's plugins): a stamp with
 * another recipe is stale here as in build.sh. Images are OCI archives beside `bin/`; `files` are
 * other outputs, by a file each holds.
 */
export const GROUPS = {
  kubernetes: { recipe: 1, version: 'K8S_VERSION', inputs: ['K8S_VERSION'], binaries: ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'], images: [], files: [], onPath: true },
  etcd: { recipe: 2, version: 'ETCD_VERSION', inputs: ['ETCD_VERSION'], binaries: ['etcd'], images: [], files: [], onPath: true },
  kwok: { recipe: 1, version: 'KWOK_VERSION', inputs: ['KWOK_VERSION'], binaries: ['kwok'], images: [], files: [], onPath: true },
  containerd: { recipe: 1, version: 'CONTAINERD_VERSION', inputs: ['CONTAINERD_VERSION'], binaries: ['containerd', 'containerd-shim-runc-v2', 'ctr'], images: [], files: [], onPath: true },
  'cni-plugins': { recipe: 1, version: 'CNI_PLUGINS_VERSION', inputs: ['CNI_PLUGINS_VERSION'], binaries: ['bridge', 'host-local', 'loopback', 'portmap'], images: [], files: [], onPath: false },
  coredns: { recipe: 2, version: 'COREDNS_VERSION', inputs: ['COREDNS_VERSION'], binaries: ['coredns'], images: ['coredns.oci.tar'], files: [], onPath: false },
  // pause.c comes from the k8s.io/kubernetes module, so a new Kubernetes release rebuilds it.
  pause: { recipe: 1, version: 'PAUSE_VERSION', inputs: ['PAUSE_VERSION', 'K8S_VERSION'], binaries: ['pause'], images: ['pause.oci.tar'], files: [], onPath: false },
  'kube-router': { recipe: 1, version: 'KUBE_ROUTER_VERSION', inputs: ['KUBE_ROUTER_VERSION'], binaries: ['kube-router'], images: [], files: [], onPath: false },
  // Built only when named (`build.sh dapr`), not by a plain build.sh: a real node that installs Dapr.
  dapr: {
    // 2: the images name their user 65532:65532 in /etc/passwd and /etc/group.
    recipe: 2,
    version: 'DAPR_VERSION',
    inputs: ['DAPR_VERSION'],
    binaries: ['daprd', 'operator', 'injector', 'sentry', 'placement', 'scheduler'],
    images: ['dapr-daprd.oci.tar', 'dapr-operator.oci.tar', 'dapr-injector.oci.tar', 'dapr-sentry.oci.tar', 'dapr-placement.oci.tar', 'dapr-scheduler.oci.tar'],
    // Dapr's Helm chart, copied from the module (charts/dapr) with its version set to the release.
    files: ['chart/dapr/Chart.yaml'],
    onPath: false,
  },
  // The real node's ingress controller (lib/cluster/sandbox-ingress.ts deploys it).
  traefik: { recipe: 1, version: 'TRAEFIK_VERSION', inputs: ['TRAEFIK_VERSION'], binaries: ['traefik'], images: ['traefik.oci.tar'], files: [], onPath: false },
  // The sandbox's image registry (the prod path); built only when named (`build.sh registry`).
  registry: { recipe: 1, version: 'DISTRIBUTION_VERSION', inputs: ['DISTRIBUTION_VERSION'], binaries: ['registry'], images: [], files: [], onPath: false },
} as const satisfies Record<string, { version: Key; inputs: readonly Key[]; recipe: number; binaries: readonly string[]; images: readonly string[]; files: readonly string[]; onPath: boolean }>;
export type Group = keyof typeof GROUPS;
export const GROUP_NAMES = Object.keys(GROUPS) as Group[];

/** The groups the simulated sandbox needs (control plane and kwok) and those a real node adds. */
export const CONTROL_PLANE_GROUPS: readonly Group[] = ['etcd', 'kubernetes', 'kwok'];
export const NODE_GROUPS: readonly Group[] = ['kubernetes', 'containerd', 'cni-plugins', 'coredns', 'pause', 'kube-router', 'traefik'];
/** The sandbox's image registry: a group of its own, built only for a sandbox (or suite) that runs one. */
export const REGISTRY_GROUPS: readonly Group[] = ['registry'];

/** The control-plane programs (kwok included), started by lib/controlplane/index.ts. */
export const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
export type Binary = (typeof BINARIES)[number];
export type AnyBinary = (typeof GROUPS)[Group]['binaries'][number];

/** Parses versions.env (KEY=value lines, # comments). Pure. */
export function parseVersionsEnv(text: string, file = versionsFile): ControlPlaneVersions {
  const found: Partial<ControlPlaneVersions> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!match) continue;
    const key = match[1] as Key;
    if (!(key in KEYS)) continue;
    const value = match[2].trim().replace(/^v/, '');
    // pause tags have had two parts (3.9) as well as three (3.10.1).
    if (!(key === 'PAUSE_VERSION' ? /^\d+\.\d+(\.\d+)?$/ : /^\d+\.\d+\.\d+$/).test(value)) {
      throw new Error(`${file}: ${key} must be a release like 1.2.3, not '${match[2]}'. Fix the line and run lib/controlplane/build/build.sh --pin.`);
    }
    found[KEYS[key]] = value;
  }
  for (const [key, name] of Object.entries(KEYS)) {
    if (!found[name]) throw new Error(`${file}: ${key} is missing. Add a line ${key}=<version>.`);
  }
  return found as ControlPlaneVersions;
}

export function readVersions(file = versionsFile): ControlPlaneVersions {
  return parseVersionsEnv(readFileSync(file, 'utf8'), file);
}

function valueOf(versions: ControlPlaneVersions, key: Key): string {
  return versions[KEYS[key]];
}

/** ${XDG_CACHE_HOME:-$HOME/.cache}/todo-deploy/controlplane: binaries and the CLI's state. Pure. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(env.HOME || home, '.cache');
  return join(base, 'todo-deploy', 'controlplane');
}

/** The cache folder of one group, e.g. …/controlplane/containerd-2.4.2 (the same rule as build.sh). Pure. */
export function groupDir(versions: ControlPlaneVersions, group: Group, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(cacheRoot(env, home), `${group}-${valueOf(versions, GROUPS[group].version)}`);
}

/** Where build.sh puts the programs of one group (default: Kubernetes'). Pure. */
export function binDirFor(versions: ControlPlaneVersions, group: Group = 'kubernetes', env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(groupDir(versions, group, env, home), 'bin');
}

/** The group a program is built in. */
export function groupOf(binary: AnyBinary): Group {
  const group = GROUP_NAMES.find((g) => (GROUPS[g].binaries as readonly string[]).includes(binary));
  if (!group) throw new Error(`no build group builds ${binary}`);
  return group;
}

/** Absolute path of one built program. Pure. */
export function binaryPath(versions: ControlPlaneVersions, binary: AnyBinary, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return join(binDirFor(versions, groupOf(binary), env, home), binary);
}

/** The folders to put on PATH for the programs a person runs (`build.sh --print-bin-dir`), PATH-style. Pure. */
export function binPathFor(versions: ControlPlaneVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  return GROUP_NAMES.filter((g) => GROUPS[g].onPath)
    .map((g) => binDirFor(versions, g, env, home))
    .join(':');
}

/** The stamp a group's folder holds once built: its inputs as KEY=value lines (build.sh adds RECIPE=, see recipeLine). Pure. */
export function stampLines(versions: ControlPlaneVersions, group: Group): string[] {
  return GROUPS[group].inputs.map((key) => `${key}=${valueOf(versions, key)}`);
}

/** The stamp's first line: the recipe the group was built by. Pure. */
export function recipeLine(group: Group): string {
  return `RECIPE=${GROUPS[group].recipe}`;
}

export function describeVersions(v: ControlPlaneVersions): string {
  return `kubernetes v${v.kubernetes}, etcd v${v.etcd}, kwok v${v.kwok}`;
}

export function describeNodeVersions(v: ControlPlaneVersions): string {
  return `kubelet and kube-proxy v${v.kubernetes}, containerd v${v.containerd}, runc ${v.runc} (Debian), CNI plugins v${v.cniPlugins}, CoreDNS v${v.coredns}, pause ${v.pause}, kube-router v${v.kubeRouter}, Traefik v${v.traefik}`;
}

/** An OCI image archive build.sh writes, importable with `ctr -n k8s.io images import ARCHIVE`. */
export interface ImageArchive {
  /** Absolute path of the OCI archive (tar of an OCI image layout). */
  archive: string;
  /** The reference it is imported as (its index.json annotations name it). */
  ref: string;
}

/** Everything a real node runs, as absolute paths (nothing is looked up on PATH but runc). */
export interface NodeArtifacts {
  kubelet: string;
  kubeProxy: string;
  kubectl: string;
  containerd: string;
  /** containerd-shim-runc-v2: containerd finds it on PATH, so put `containerdBinDir` first on the node's PATH. */
  containerdShim: string;
  ctr: string;
  containerdBinDir: string;
  /** Folder with exactly bridge, host-local, loopback, portmap: containerd's CNI `bin_dirs`. */
  cniBinDir: string;
  cniPlugins: { bridge: string; hostLocal: string; loopback: string; portmap: string };
  coredns: string;
  /** kube-router: the NetworkPolicy controller (firewall only), started when policies are enforced. */
  kubeRouter: string;
  /** runc is Debian's, found on PATH; the node must check `runc --version` reports this release. */
  runc: { command: 'runc'; version: string; install: string };
  images: {
    /** The pod sandbox image: containerd's `pinned_images.sandbox` (CRI images plugin) must name `pause.ref`. */
    pause: ImageArchive;
    coredns: ImageArchive;
    /** The ingress controller, imported when `up` deploys it (lib/cluster/sandbox-ingress.ts). */
    traefik: ImageArchive;
  };
  /** The groups that build these (for build.sh GROUP... and nodeArtifactProblems). */
  groups: readonly Group[];
}

export const RUNC_INSTALL = 'apt-get install runc (Debian 12 ships runc 1.1.5; it comes with docker.io)';

/** The pause, CoreDNS and Traefik images are built here under the upstream names, so nothing tries to pull them. Pure. */
export function imageRefs(v: ControlPlaneVersions): { pause: string; coredns: string; traefik: string } {
  return { pause: `registry.k8s.io/pause:${v.pause}`, coredns: `registry.k8s.io/coredns/coredns:v${v.coredns}`, traefik: `docker.io/library/traefik:v${v.traefik}` };
}

/** Absolute paths of every node program and the two image archives with their refs. Pure. */
export function nodeArtifacts(versions: ControlPlaneVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): NodeArtifacts {
  const path = (b: AnyBinary) => binaryPath(versions, b, env, home);
  const refs = imageRefs(versions);
  return {
    kubelet: path('kubelet'),
    kubeProxy: path('kube-proxy'),
    kubectl: path('kubectl'),
    containerd: path('containerd'),
    containerdShim: path('containerd-shim-runc-v2'),
    ctr: path('ctr'),
    containerdBinDir: binDirFor(versions, 'containerd', env, home),
    cniBinDir: binDirFor(versions, 'cni-plugins', env, home),
    cniPlugins: { bridge: path('bridge'), hostLocal: path('host-local'), loopback: path('loopback'), portmap: path('portmap') },
    coredns: path('coredns'),
    kubeRouter: path('kube-router'),
    runc: { command: 'runc', version: versions.runc, install: RUNC_INSTALL },
    images: {
      pause: { archive: join(groupDir(versions, 'pause', env, home), 'pause.oci.tar'), ref: refs.pause },
      coredns: { archive: join(groupDir(versions, 'coredns', env, home), 'coredns.oci.tar'), ref: refs.coredns },
      traefik: { archive: join(groupDir(versions, 'traefik', env, home), 'traefik.oci.tar'), ref: refs.traefik },
    },
    groups: NODE_GROUPS,
  };
}

/** The release in `runc --version` output ("runc version 1.1.5+ds1" -> 1.1.5). Pure. */
export function parseRuncVersion(output: string): string | undefined {
  return /^runc version v?(\d+\.\d+\.\d+)/m.exec(output)?.[1];
}

/**
 * What is missing or stale in these groups: one line each, naming the group, what is wrong
 * and where. Reads the cache (files and stamps); empty when everything is built and current.
 */
export function groupProblems(versions: ControlPlaneVersions, groups: readonly Group[], env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const problems: string[] = [];
  for (const group of groups) {
    const dir = groupDir(versions, group, env, home);
    const spec = GROUPS[group];
    const missing = [...spec.binaries.map((b) => join('bin', b)), ...spec.images, ...spec.files].filter((f) => !existsSync(join(dir, f)));
    const stamp = join(dir, 'complete');
    const built = existsSync(stamp) ? readFileSync(stamp, 'utf8').split('\n') : [];
    const stale = [recipeLine(group), ...stampLines(versions, group)].filter((line) => !built.includes(line));
    if (missing.length > 0) problems.push(`${group}: ${missing.join(', ')} missing in ${dir}`);
    else if (stale.length > 0) problems.push(`${group}: ${dir} is not a finished build of ${stampLines(versions, group).join(' ')} by the current recipe (${recipeLine(group)})`);
  }
  return problems;
}

/** The groups among these that build.sh must (re)build. */
export function missingGroups(versions: ControlPlaneVersions, groups: readonly Group[], env: NodeJS.ProcessEnv = process.env, home = homedir()): Group[] {
  return groups.filter((g) => groupProblems(versions, [g], env, home).length > 0);
}

/**
 * What keeps a real node from starting with these versions: unbuilt groups (fix: build.sh),
 * and runc absent or at another release (fix: the package). `runcVersionOutput` is what
 * `runc --version` printed, or undefined when runc is not on PATH. Empty when ready.
 */
export function nodeArtifactProblems(versions: ControlPlaneVersions, runcVersionOutput: string | undefined, env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const problems = groupProblems(versions, NODE_GROUPS, env, home).map((p) => `${p} (build it: bash lib/controlplane/build/build.sh node)`);
  if (runcVersionOutput === undefined) problems.push(`runc is not on PATH; the node needs runc ${versions.runc}: ${RUNC_INSTALL}`);
  else {
    const got = parseRuncVersion(runcVersionOutput);
    if (got !== versions.runc) problems.push(`runc on PATH is ${got ?? `unrecognised ('${runcVersionOutput.split('\n')[0]}')`}, but lib/controlplane/build/versions.env pins RUNC_VERSION=${versions.runc}: ${RUNC_INSTALL}, or change the pin after checking the node works with it`);
  }
  return problems;
}

/** nodeArtifactProblems with `runc --version` asked now. */
export function checkNodeArtifacts(versions: ControlPlaneVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): string[] {
  const runc = spawnSync('runc', ['--version'], { encoding: 'utf8', env });
  return nodeArtifactProblems(versions, runc.error ? undefined : `${runc.stdout}${runc.stderr}`, env, home);
}

/** Throws, saying what to run, unless the control plane's programs are built for these versions (in binDir, when given). */
export function checkBinaries(versions: ControlPlaneVersions, binDir?: string): void {
  const problems = binDir
    ? BINARIES.filter((b) => !existsSync(join(binDir, b))).map((b) => `${b} missing in ${binDir}`)
    : groupProblems(versions, CONTROL_PLANE_GROUPS);
  if (problems.length > 0) {
    throw new Error(
      `The control-plane binaries for ${describeVersions(versions)} are not built (${problems.join('; ')}). ` +
        'Run `npm run controlplane:build` (needs Go and the Go module proxy; about 25 minutes the first time).',
    );
  }
}

/** The registry name of the Dapr images build.sh writes (DAPR_IMAGE_REGISTRY there): built here, never pulled. */
export const DAPR_IMAGE_REGISTRY = 'todo-deploy.local/dapr';
export type DaprProgram = (typeof GROUPS)['dapr']['binaries'][number];
export const DAPR_PROGRAMS = GROUPS.dapr.binaries;

/** What the dapr group gives a real node: an image archive per program and the chart's folder. */
export interface DaprArtifacts {
  version: string;
  /** `global.registry` and `global.tag` for the chart: its images are <registry>/<program>:<tag>. */
  registry: string;
  tag: string;
  images: Record<DaprProgram, ImageArchive>;
  /** The Dapr chart (charts/dapr of the module, version and appVersion set to the release). */
  chartDir: string;
}

/** Absolute paths of the Dapr images and chart, with the refs the chart composes. Pure. */
export function daprArtifacts(versions: ControlPlaneVersions, env: NodeJS.ProcessEnv = process.env, home = homedir()): DaprArtifacts {
  const dir = groupDir(versions, 'dapr', env, home);
  const images = Object.fromEntries(
    DAPR_PROGRAMS.map((p) => [p, { archive: join(dir, `dapr-${p}.oci.tar`), ref: `${DAPR_IMAGE_REGISTRY}/${p}:${versions.dapr}` }]),
  ) as Record<DaprProgram, ImageArchive>;
  return { version: versions.dapr, registry: DAPR_IMAGE_REGISTRY, tag: versions.dapr, images, chartDir: join(dir, 'chart', 'dapr') };
}
