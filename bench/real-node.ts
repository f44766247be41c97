// (8) the benchmark on the sandbox's real node: the project's control plane with one real node
// (containerd, kubelet, kube-proxy in a network namespace; lib/controlplane/node) instead of
// kwok, so pods pull nothing, start real containers and pass real readiness probes.
//
// Whether it can run is decided before anything starts: the host must allow a real node
// (lib/controlplane/node/support.ts), its programs must be built (the benchmark builds
// nothing), and no other real node may be running here (a network namespace or a kubelet
// already there belongs to someone else: the scenario is skipped, saying so). The images are
// the newest ones of the stack's repositories in the local Docker engine, tagged once more for
// the benchmark (every tool deploys the same images with one IMAGE_TAG) and imported into the
// node's containerd: no image is built here.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { NODE_GROUPS, missingGroups, readVersions } from '../lib/controlplane/versions.ts';
import { realNodeSupport } from '../lib/controlplane/node/support.ts';
import { importImages, nodeImages, type RealNodeRecord } from '../lib/controlplane/node/index.ts';
import { nodeBinaries } from '../lib/controlplane/node/binaries.ts';
import { exportImages } from '../lib/images/export.ts';
import type { Config } from '../lib/config.ts';

/** The tag every tool's images carry on the real node. */
export const REAL_NODE_TAG = '0.0.0-bench';

/** What `ip netns list` and `pgrep -x kubelet` say about other real nodes. Pure. */
export function busyReason(netns: string, kubelets: string): string | undefined {
  const spaces = netns.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  const pids = kubelets.split('\n').map((l) => l.trim()).filter(Boolean);
  const parts = [
    ...(spaces.length ? [`network namespace${spaces.length > 1 ? 's' : ''} ${spaces.join(', ')} exist${spaces.length > 1 ? '' : 's'}`] : []),
    ...(pids.length ? [`a kubelet runs (pid ${pids.join(', ')})`] : []),
  ];
  return parts.length ? `another real node is in use on this machine (${parts.join('; ')}), and a second one would disturb it` : undefined;
}

/** Why (8) cannot run here now, or undefined when it can. Starts nothing. */
export function realNodeUnavailable(): string | undefined {
  const support = realNodeSupport();
  if (!support.possible) return `this machine cannot run a real node: ${support.reasons.join('; ')}`;
  const missing = missingGroups(readVersions(), NODE_GROUPS);
  if (missing.length) return `the real node's programs are not built (${missing.join(', ')}); \`npm run controlplane:build\` builds them (about 15-20 minutes), which the benchmark does not do itself`;
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const kubelet = spawnSync('pgrep', ['-x', 'kubelet'], { encoding: 'utf8' });
  return busyReason(netns.stdout ?? '', kubelet.stdout ?? '');
}

/** "todo-backend:abc" from `docker image ls`: the newest tagged image of each repository. Pure. */
export function newestTags(lines: string): Map<string, string> {
  const newest = new Map<string, string>();
  // docker image ls lists newest first.
  for (const line of lines.split('\n')) {
    const [repo, tag] = line.trim().split(/\s+/);
    if (!repo || !tag || tag === '<none>' || newest.has(repo)) continue;
    newest.set(repo, tag);
  }
  return newest;
}

export interface RealImages {
  /** Repository -> the image it was tagged from ("todo-backend:b13f4fe76201"). */
  sources: Record<string, string>;
  /** Every ref imported into the node (the bench tag, and the backend's changed tag). */
  refs: string[];
}

/**
 * Tags the newest local image of each of the stack's repositories as <repo>:<tag> (and the
 * backend also as <repo>:<changedTag>, for (3)); throws when a repository has no image.
 */
export function tagImages(config: Pick<Config, 'images'>, tag: string, changedTag: string): RealImages {
  const repos = Object.values(config.images) as string[];
  const ls = spawnSync('docker', ['image', 'ls', '--format', '{{.Repository}} {{.Tag}}', ...repos.flatMap((r) => ['--filter', `reference=${r}`])], { encoding: 'utf8' });
  // Say what docker said (an engine that does not answer, say), not only that the command failed.
  if (ls.status !== 0) throw new Error(`listing the local images failed: ${(ls.stderr || ls.error?.message || `docker exited ${ls.status}`).trim().split('\n')[0]}`);
  const listed = ls.stdout;
  const newest = newestTags(listed);
  const absent = repos.filter((r) => !newest.has(r));
  if (absent.length) throw new Error(`no local image of ${absent.join(', ')} (build them with \`npm run images\`)`);
  const sources = Object.fromEntries(repos.map((r) => [r, `${r}:${newest.get(r)}`]));
  const refs: string[] = [];
  for (const [repo, source] of Object.entries(sources)) {
    const target = `${repo}:${tag}`;
    if (source !== target) execFileSync('docker', ['tag', source, target]);
    refs.push(target);
  }
  const backend = config.images.backend;
  execFileSync('docker', ['tag', `${backend}:${tag}`, `${backend}:${changedTag}`]);
  refs.push(`${backend}:${changedTag}`);
  return { sources, refs };
}

/** Removes the benchmark's tags again (the images themselves stay). */
export function untagImages(refs: readonly string[]): void {
  for (const ref of refs) spawnSync('docker', ['image', 'rm', '--no-prune', ref], { stdio: 'ignore' });
}

/** Exports the refs from Docker and imports them into the node's containerd; returns the MB moved. */
export async function loadIntoNode(node: RealNodeRecord, refs: readonly string[], log: (line: string) => void): Promise<number> {
  const { ctr } = nodeBinaries();
  const dir = path.join(node.dir, 'bench-images');
  mkdirSync(dir, { recursive: true });
  const archive = path.join(dir, 'images.tar');
  try {
    const exported = await exportImages([...refs], archive, { log });
    importImages(node, ctr, [archive]);
    const present = new Set(nodeImages(node, ctr));
    const absent = refs.filter((r) => !present.has(`docker.io/library/${r}`) && !present.has(r));
    if (absent.length) throw new Error(`the node lacks ${absent.join(', ')} after the import`);
    return Math.round(exported.bytes / 1e6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
