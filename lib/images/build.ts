// The pipeline's build step: one image per workload and per in-cluster store (PostgreSQL, Redis:
// nothing is pulled, so they are built here too), tagged with a digest of its build context
// (never "latest"), built only when no image with that tag exists yet. The refs it returns are
// what the manifests' ${FRONTEND_IMAGE} & co. are rendered with.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ImageNames } from '../config.ts';
import { DeployError } from '../errors.ts';
import { containersOf, podTemplates } from '../policy/objects.ts';
import type { ComponentKey, ImageKey, ImageRefs, SourcedObject, StoreKey } from '../types.ts';
import { DEFAULT_NODE_IMAGE } from './base.ts';
import { contextDigest, contextTag, dotenvFilesIn, listContext, type ListedEntry } from './context.ts';
import { noRedact, type Redactor } from '../output.ts';
import { docker, dockerError, dockerRaw, imageExists, requireDockerEngine } from './docker.ts';

/** The three workloads: the key used in refs and config, and the folder under apps/. */
export const COMPONENTS = [
  { key: 'frontend', dir: 'apps/frontend' },
  { key: 'backend', dir: 'apps/backend' },
  { key: 'mcpServer', dir: 'apps/mcp-server' },
] as const satisfies readonly { key: ComponentKey; dir: string }[];

/** The in-cluster stores, built from Debian's packages on the same base as the workloads. */
export const STORES = [
  { key: 'postgres', dir: 'apps/postgres' },
  { key: 'redis', dir: 'apps/redis' },
] as const satisfies readonly { key: StoreKey; dir: string }[];

/** Every image the build step makes, in build order. */
export const IMAGES = [...COMPONENTS, ...STORES] as const;

export interface ImagePlan {
  key: ImageKey;
  /** The app folder, absolute. */
  context: string;
  dockerfile: string;
  repository: string;
  tag: string;
  ref: string;
  /** Full sha256 of the context, stored as a label for tracing an image back to its sources. */
  digest: string;
  buildArgs: Record<string, string>;
  /** The files the tag was computed from: exactly what the build is given. */
  entries: ListedEntry[];
}

export interface BuildResult {
  key: ImageKey;
  ref: string;
  action: 'built' | 'skipped';
  seconds: number;
}

export interface BuildOptions {
  repoRoot: string;
  names: ImageNames;
  /** Base image for the Dockerfiles' NODE_IMAGE arg; the official node:22-bookworm-slim by default. */
  nodeImage?: string;
  /** Applied to every piece of docker output before it is shown (lib/output's redact). */
  redact?: Redactor;
  log?: (line: string) => void;
  /** The images to build (default: all of IMAGES); see referencedImages. */
  only?: readonly ImageKey[];
}

/** The NODE_IMAGE a run uses: the environment's NODE_IMAGE when set, else the official image. */
export function nodeImageFrom(env: Record<string, string | undefined>): string {
  const value = env.NODE_IMAGE?.trim();
  return value ? value : DEFAULT_NODE_IMAGE;
}

/** The local id of an image, or undefined when it is not in the local store (not pulled yet). */
async function localImageId(ref: string): Promise<string | undefined> {
  const result = await dockerRaw(['image', 'inspect', '--format', '{{.Id}}', ref]);
  return result.exitCode === 0 ? result.stdout.trim() || undefined : undefined;
}

/**
 * The base the images are built on and its local id, pulling it first when it is not here, so
 * the tags always include the id of the base (a newer node:22-bookworm-slim gives new tags).
 * Where the default base cannot be pulled (no registry answers: these offline machines), the
 * offline base (`npm run images:base`: debootstrap and Node from the npm registry) is built
 * once and used instead, and a line says so; a NODE_IMAGE the user chose is never replaced.
 */
async function ensureBaseImage(nodeImage: string, repoRoot: string, redact: Redactor, log: (line: string) => void): Promise<{ ref: string; id: string }> {
  const present = await localImageId(nodeImage);
  if (present) return { ref: nodeImage, id: present };
  log(`pulling base image ${nodeImage}`);
  const args = ['pull', nodeImage];
  const result = await dockerRaw(args);
  if (result.exitCode !== 0) {
    const what = `Pulling the base image ${nodeImage}`;
    const fix = 'on a machine that cannot reach the registry, build the offline base with `npm run images:base` and set NODE_IMAGE to the ref it prints (todo-deploy/node-base:<node>-bookworm-offline).';
    if (nodeImage !== DEFAULT_NODE_IMAGE) throw dockerError(args, result, { redact, what, fix });
    const why = redact(result.stderr.trim().split('\n').pop() ?? '');
    log(`cannot pull ${nodeImage} (${why}): using the offline base instead (npm run images:base; built once, a few minutes)`);
    // Loaded only here: it brings zx, which a run that builds nothing must not load.
    const { ensureOfflineBaseImage } = await import('./offline-base.ts');
    const offline = await ensureOfflineBaseImage({ repoRoot, log });
    const id = await localImageId(offline.ref);
    if (!id) throw new DeployError(`The offline base ${offline.ref} was built but is not in the local image store. Fix: run \`npm run images:base -- --fresh\` and check \`docker image ls\`.`);
    return { ref: offline.ref, id };
  }
  const pulled = await localImageId(nodeImage);
  if (!pulled) throw new DeployError(`The base image ${nodeImage} was pulled but is not in the local image store. Fix: check \`docker image ls\` and NODE_IMAGE.`);
  return { ref: nodeImage, id: pulled };
}

/**
 * Reads one component's context and computes its tag. Refuses a context that would carry a
 * dotenv file: the .dockerignore must keep .env* out of every layer.
 */
export function planImage(repoRoot: string, key: ImageKey, repository: string, nodeImage: string, baseImageId?: string): ImagePlan {
  const component = IMAGES.find((c) => c.key === key)!;
  const context = path.join(repoRoot, component.dir);
  const dockerfile = path.join(context, 'Dockerfile');
  if (!existsSync(dockerfile)) {
    throw new DeployError(`${component.dir}/Dockerfile is missing, so the ${key} image cannot be built. Fix: restore it from git (\`git checkout -- ${component.dir}/Dockerfile\`).`);
  }
  if (!existsSync(path.join(context, '.dockerignore'))) {
    throw new DeployError(`${component.dir}/.dockerignore is missing: without it .env files and node_modules would enter the image. Fix: restore it from git.`);
  }
  const entries = listContext(context);
  const leaking = dotenvFilesIn(entries.map((e) => e.path));
  if (leaking.length > 0) {
    throw new DeployError(`${component.dir}/.dockerignore lets ${leaking.map((p) => `${component.dir}/${p}`).join(', ')} into the ${key} image's build context; secrets must never enter an image. Fix: add the line ".env*" to ${component.dir}/.dockerignore.`);
  }
  const buildArgs = { NODE_IMAGE: nodeImage };
  const input = { entries, dockerfile: readFileSync(dockerfile, 'utf8'), buildArgs, baseImageId };
  const tag = contextTag(input);
  return { key, context, dockerfile, repository, tag, ref: `${repository}:${tag}`, digest: contextDigest(input), buildArgs, entries };
}

/**
 * A folder holding the planned context's files and nothing else, with the Dockerfile and
 * .dockerignore beside them: what Docker builds from. Files reached through a link to a folder
 * outside the app (apps/shared) are real files here, and a file changed after planning cannot
 * slip into an image under the old tag. The caller removes the folder.
 */
export function stageContext(plan: Pick<ImagePlan, 'context' | 'dockerfile' | 'entries'>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-context-'));
  const place = (rel: string) => {
    const target = path.join(dir, rel);
    mkdirSync(path.dirname(target), { recursive: true });
    return target;
  };
  for (const entry of plan.entries) {
    const target = place(entry.path);
    if (entry.kind === 'symlink') {
      symlinkSync(readlinkSync(entry.source), target);
    } else {
      copyFileSync(entry.source, target);
      chmodSync(target, entry.executable ? 0o755 : 0o644);
    }
  }
  copyFileSync(plan.dockerfile, place('Dockerfile'));
  const ignore = path.join(plan.context, '.dockerignore');
  if (existsSync(ignore)) copyFileSync(ignore, place('.dockerignore'));
  return dir;
}

/** Builds one planned image unless its tag already exists. */
export async function buildPlanned(plan: ImagePlan, redact: Redactor = noRedact, log: (line: string) => void = () => {}): Promise<BuildResult> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  if (await imageExists(plan.ref)) {
    log(`${plan.ref}: exists, build skipped`);
    return { key: plan.key, ref: plan.ref, action: 'skipped', seconds: seconds() };
  }
  log(`${plan.ref}: building from ${plan.context}`);
  const staged = stageContext(plan);
  const args = [
    'build',
    '--file', path.join(staged, 'Dockerfile'),
    '--tag', plan.ref,
    ...Object.entries(plan.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
    '--label', `io.todo-deploy.component=${plan.key}`,
    '--label', `io.todo-deploy.context-sha256=${plan.digest}`,
    staged,
  ];
  await docker(args, {
    redact,
    what: `Building the ${plan.key} image ${plan.ref}`,
    fix: `run \`docker ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\` to see the whole log (its context folder is kept for that; remove it afterwards); if the base image is missing and this machine cannot pull, run \`npm run images:base\` and set NODE_IMAGE to the ref it prints.`,
  });
  // Kept when the build failed, for the command the error suggests.
  rmSync(staged, { recursive: true, force: true });
  log(`${plan.ref}: built in ${seconds().toFixed(1)}s`);
  return { key: plan.key, ref: plan.ref, action: 'built', seconds: seconds() };
}

/**
 * The images the rendered objects run: those whose ref (as rendered, e.g. with IMAGE_TAG)
 * is some container's image. The PostgreSQL image is not among them when the external database
 * is used (its manifest is not rendered), so it is neither built nor loaded then. Pure.
 */
export function referencedImages(objects: readonly SourcedObject[], refs: ImageRefs): ImageKey[] {
  const used = new Set(podTemplates(objects).flatMap((t) => containersOf(t).map((c) => c.container.image)));
  return IMAGES.map((i) => i.key).filter((key) => used.has(refs[key]));
}

/**
 * Builds the images (sequentially: the machine this runs on has few cores and each build's
 * npm ci or apt-get already uses them) and returns the refs of those built or found, with what
 * happened to each.
 */
export async function buildImages(options: BuildOptions): Promise<{ refs: Partial<ImageRefs>; results: BuildResult[] }> {
  const redact = options.redact ?? noRedact;
  const keys = IMAGES.map((i) => i.key).filter((key) => !options.only || options.only.includes(key));
  await requireDockerEngine(redact);
  const base = await ensureBaseImage(options.nodeImage ?? DEFAULT_NODE_IMAGE, options.repoRoot, redact, options.log ?? (() => {}));
  const results: BuildResult[] = [];
  for (const key of keys) {
    const plan = planImage(options.repoRoot, key, options.names[key], base.ref, base.id);
    results.push(await buildPlanned(plan, redact, options.log));
  }
  const refs: Partial<ImageRefs> = Object.fromEntries(results.map((r) => [r.key, r.ref]));
  return { refs, results };
}

