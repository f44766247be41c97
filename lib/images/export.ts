// Built images out of the Docker engine as one archive that a containerd can import, the way
// `minikube image load` or `kind load docker-image` move images into a node: `docker save`
// writes every ref's tag into the archive's manifest.json (RepoTags), and
// `ctr -n k8s.io images import <file>` names the imported images after those tags (normalised
// to docker.io/library/<name>:<tag>, which is also how the kubelet resolves "todo-backend:<tag>").
// Layers shared by several images (the common base) are written once.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DeployError } from '../errors.ts';
import { noRedact, type Redactor } from '../output.ts';
import { docker, imageExists, requireDockerEngine } from './docker.ts';

export interface ExportOptions {
  /** Applied to docker's output before it reaches an error message. */
  redact?: Redactor;
  log?: (line: string) => void;
  /**
   * false (the default): a ref the engine does not have fails the export, naming it. true: it is
   * left out and listed in `missing`, for a caller that reports it itself.
   */
  skipMissing?: boolean;
}

export interface ExportResult {
  /** The archive, written only when at least one image was exported. */
  file?: string;
  /** Refs in the archive, in the order given, without duplicates. */
  exported: string[];
  /** Refs the engine does not have (only with skipMissing). */
  missing: string[];
  bytes: number;
  seconds: number;
}

// name[:port]/path:tag, the tag being what the archive must keep: a bare repository would make
// docker save write every tag of it, and an id (sha256:...) or digest would write none.
const TAGGED_REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The refs without duplicates, in the order given; throws on one that names no tag. Pure. */
export function exportableRefs(refs: readonly string[]): string[] {
  const unique = [...new Set(refs.map((r) => r.trim()))];
  const untagged = unique.filter((r) => !TAGGED_REF.test(r) || r.startsWith('sha256:'));
  if (untagged.length > 0) {
    throw new DeployError(`Cannot export ${untagged.map((r) => `"${r}"`).join(', ')}: an exported image needs a repository:tag reference (an image id, a digest or a bare repository would lose or multiply the tag on the node). Fix: pass the refs the images step printed (e.g. todo-backend:3f9a1c2b4d5e).`);
  }
  if (unique.length === 0) throw new DeployError('No image refs were given to export. Fix: pass the refs the images step built.');
  return unique;
}

/**
 * Writes the images `refs` names into one `docker save` archive at `file` (replaced when it
 * exists; written beside it first so a half-written archive never carries the final name).
 * For `ctr -n k8s.io images import <file>`.
 */
export async function exportImages(refs: readonly string[], file: string, options: ExportOptions = {}): Promise<ExportResult> {
  const started = Date.now();
  const redact = options.redact ?? noRedact;
  const log = options.log ?? (() => {});
  const wanted = exportableRefs(refs);
  await requireDockerEngine(redact);

  const present: string[] = [];
  const missing: string[] = [];
  for (const ref of wanted) ((await imageExists(ref)) ? present : missing).push(ref);
  if (missing.length > 0 && !options.skipMissing) {
    throw new DeployError(`Cannot export ${missing.join(', ')}: not in the local Docker engine's images, so the node would report ErrImageNeverPull for ${missing.length === 1 ? 'it' : 'them'}. Fix: build them first (\`npm run images\`; PostgreSQL and Redis come from the same step), then run again.`);
  }
  for (const ref of missing) log(`${ref}: not in the Docker engine, left out of the archive`);
  if (present.length === 0) return { exported: [], missing, bytes: 0, seconds: (Date.now() - started) / 1000 };

  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
  rmSync(partial, { force: true });
  log(`docker save ${present.join(' ')} -> ${file}`);
  try {
    await docker(['save', '--output', partial, ...present], {
      redact,
      what: `Exporting ${present.length} image(s) to ${file}`,
      fix: `check that ${path.dirname(file)} exists and has room for the images (\`docker image ls\` shows their sizes).`,
    });
    renameSync(partial, file);
  } finally {
    if (existsSync(partial)) rmSync(partial, { force: true });
  }
  return { file, exported: present, missing, bytes: statSync(file).size, seconds: (Date.now() - started) / 1000 };
}

/** The tags an archive written by exportImages carries (manifest.json's RepoTags), for checks. */
export async function archiveRefs(file: string): Promise<string[]> {
  // zx loads here, not with the sandbox provider that imports this module (it takes a few hundred ms).
  const { $ } = await import('zx');
  const out = await $({ quiet: true, nothrow: true, verbose: false })`tar -xOf ${file} manifest.json`;
  if (out.exitCode !== 0) {
    throw new DeployError(`${file} is not an image archive with a manifest.json (tar: ${out.stderr.trim()}). Fix: write it again with exportImages.`);
  }
  const manifest = JSON.parse(out.stdout) as { RepoTags?: string[] | null }[];
  return manifest.flatMap((entry) => entry.RepoTags ?? []);
}
