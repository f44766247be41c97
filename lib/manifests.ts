// manifests/*.yaml -> objects. `${VAR}` placeholders are filled from the configuration before
// parsing (values never contain newlines, so line numbers stay those of the file), then each
// YAML document becomes a SourcedObject that remembers its file and line for every later error.
// A document of kind List (or a typed list such as ConfigMapList) stands for its items, as
// kubectl reads it. Hostile input is refused, naming the file: a file over the size limit
// (MANIFEST_MAX_BYTES, 1 MiB by default) before it is read, and aliases that would expand
// beyond reason (a "billion laughs") before they are expanded.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { LineCounter, isMap, isSeq, isScalar, parseAllDocuments, type Document } from 'yaml';
import { UsageError, formatProblems, type Problem } from './errors.ts';
import type { KubeObject, SourcedObject } from './types.ts';

/** First-line marker for a file rendered only when a variable is "true" (e.g. the embedded database). */
const CONDITION = /^#\s*todo-deploy:\s*when\s+([A-Z][A-Z0-9_]*)\s*$/;
// The closing brace is optional in the pattern so that a forgotten one is reported, not passed on as text.
const PLACEHOLDER = /\$\$\{|\$\{([^}]*)(\}?)/g;
const VARIABLE_NAME = /^[A-Z][A-Z0-9_]*$/;

export type Vars = Record<string, string>;

/** The largest manifest file read, unless MANIFEST_MAX_BYTES says otherwise: far above any hand-written manifest. */
export const DEFAULT_MANIFEST_MAX_BYTES = 1024 * 1024;
/**
 * Alias expansions allowed per document (the yaml package's own default, written out): anchors
 * used as intended stay far below it, while a few nested aliases can otherwise expand into
 * gigabytes.
 */
export const MAX_ALIAS_COUNT = 100;

/** The size limit for one manifest file, from MANIFEST_MAX_BYTES (a whole number of bytes) or the default. */
export function manifestMaxBytes(env: Record<string, string | undefined> = process.env): number {
  const raw = env.MANIFEST_MAX_BYTES?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MANIFEST_MAX_BYTES;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new UsageError(`MANIFEST_MAX_BYTES is "${raw}", not a whole number of bytes >= 1; nothing was sent to a cluster. Fix: set it to the largest manifest file size to accept, e.g. MANIFEST_MAX_BYTES=2097152 for 2 MiB, or unset it for the default of 1 MiB.`);
  }
  return Number(raw);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 2)} MiB`;

export interface RenderedFile {
  objects: SourcedObject[];
  /** False when the file's `when` condition did not hold. */
  included: boolean;
}

/** Fills `${VAR}` placeholders; `$${` escapes a literal `${`. Collects unknown names with their line. */
export function interpolate(text: string, vars: Vars, file: string): { text: string; problems: Problem[] } {
  const problems: Problem[] = [];
  const lines = text.split('\n');
  const out = lines.map((lineText, index) =>
    // A comment is documentation: a placeholder mentioned there is neither filled nor checked.
    /^\s*#/.test(lineText) ? lineText : lineText.replace(PLACEHOLDER, (match, name: string | undefined, close: string | undefined) => {
      if (match === '$${') return '${';
      if (close !== '}') {
        problems.push({ file, line: index + 1, key: match, message: 'is not closed with "}".', fix: 'write ${NAME}, or $${ for a literal "${".' });
        return match;
      }
      const trimmed = (name ?? '').trim();
      if (!VARIABLE_NAME.test(trimmed)) {
        problems.push({ file, line: index + 1, key: match, message: 'is not a valid placeholder.', fix: 'write ${NAME} with an uppercase variable name, or $${ for a literal "${".' });
        return match;
      }
      const value = vars[trimmed];
      if (value === undefined) {
        problems.push({ file, line: index + 1, key: `\${${trimmed}}`, message: 'names an unknown variable.', fix: `use one of: ${Object.keys(vars).sort().join(', ')}.` });
        return match;
      }
      if (/[\r\n]/.test(value)) {
        problems.push({ file, line: index + 1, key: `\${${trimmed}}`, message: 'has a value spanning several lines, which would corrupt the YAML.', fix: `give ${trimmed} a single-line value.` });
        return match;
      }
      return value;
    }),
  );
  return { text: out.join('\n'), problems };
}

/** Checks a parsed document is a Kubernetes object; returns what is missing. */
function envelopeProblems(doc: unknown, file: string, line: number): Problem[] {
  const missing: string[] = [];
  const o = doc as Partial<KubeObject> | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return [{ file, line, key: 'document', message: 'is not a mapping (a Kubernetes object).', fix: 'each YAML document must be an object with apiVersion, kind and metadata.name.' }];
  }
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') missing.push('apiVersion');
  if (typeof o.kind !== 'string' || o.kind === '') missing.push('kind');
  if (typeof o.metadata?.name !== 'string' || o.metadata.name === '') missing.push('metadata.name');
  if (missing.length === 0) return [];
  const what = typeof o.kind === 'string' ? `${o.kind} document` : 'document';
  return [{ file, line, key: what, message: `lacks ${missing.join(', ')}.`, fix: `add ${missing.join(' and ')} to the ${what}.` }];
}

/**
 * A list document as kubectl reads one: kind List (v1) or a typed list such as ConfigMapList,
 * holding its objects under items. A kind that merely ends in "List" but names an object is not one.
 */
function isList(value: unknown): boolean {
  const o = value as Partial<KubeObject> | null;
  if (typeof o !== 'object' || o === null || typeof o.kind !== 'string' || !Array.isArray(o.items)) return false;
  return o.kind === 'List' || (o.kind.endsWith('List') && typeof o.metadata?.name !== 'string');
}

/** The first line of each entry under a list document's items, in order. */
function itemLines(doc: Document.Parsed, counter: LineCounter, fallback: number): number[] {
  const root = doc.contents;
  if (!isMap(root)) return [];
  const pair = root.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === 'items');
  if (!pair || !isSeq(pair.value)) return [];
  return pair.value.items.map((n) => {
    const at = (n as { range?: [number, number, number] } | null)?.range?.[0];
    return at === undefined ? fallback : counter.linePos(at).line;
  });
}

/** Renders one file's text. Pure: file name only labels the results. */
export function renderText(text: string, vars: Vars, file: string): { rendered: RenderedFile; problems: Problem[] } {
  const condition = CONDITION.exec(text.split('\n', 1)[0] ?? '');
  if (condition) {
    const name = condition[1]!;
    if (vars[name] === undefined) {
      return { rendered: { objects: [], included: false }, problems: [{ file, line: 1, key: name, message: 'is used in a `when` condition but is not a known variable.', fix: `use one of: ${Object.keys(vars).sort().join(', ')}.` }] };
    }
    if (vars[name] !== 'true') return { rendered: { objects: [], included: false }, problems: [] };
  }
  const { text: filled, problems } = interpolate(text, vars, file);
  const counter = new LineCounter();
  const docs = parseAllDocuments(filled, { lineCounter: counter, prettyErrors: false });
  const objects: SourcedObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const pos = counter.linePos(err.pos[0]);
        problems.push({ file, line: pos.line, key: 'YAML', message: `syntax error at column ${pos.col}: ${err.message.split('\n')[0]}`, fix: 'correct the YAML syntax at that line (indentation, a missing colon or quote).' });
      }
      continue;
    }
    const start = doc.contents?.range?.[0] ?? 0;
    const line = counter.linePos(start).line;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // The yaml package throws while it builds the value: aliases past maxAliasCount, or an alias with no anchor.
      const bomb = /alias count/i.test((err as Error).message);
      problems.push(bomb
        ? { file, line, key: 'YAML', message: `its aliases (*name) would expand beyond the limit of ${MAX_ALIAS_COUNT} (the yaml package's maxAliasCount), as in a "billion laughs" attack, so the document was not read.`, fix: 'write the repeated parts out, or use fewer nested aliases; Kubernetes manifests rarely need any.' }
        : { file, line, key: 'YAML', message: `cannot be read: ${(err as Error).message.split('\n')[0]}`, fix: 'check the aliases (*name) of the document: each must name an anchor (&name) defined earlier in the same document.' });
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document between separators
    if (isList(value)) {
      const lines = itemLines(doc, counter, line);
      (value as { items: unknown[] }).items.forEach((item, i) => {
        const itemLine = lines[i] ?? line;
        if (isList(item)) {
          problems.push({ file, line: itemLine, key: `${(item as KubeObject).kind} item`, message: 'is a list inside a list, which is not read.', fix: 'put its items directly into the outer list, or into a document of their own.' });
          return;
        }
        const envelope = envelopeProblems(item, file, itemLine);
        if (envelope.length > 0) problems.push(...envelope);
        else objects.push({ object: item as KubeObject, file, line: itemLine });
      });
      continue;
    }
    const envelope = envelopeProblems(value, file, line);
    if (envelope.length > 0) {
      problems.push(...envelope);
      continue;
    }
    objects.push({ object: value as KubeObject, file, line });
  }
  return { rendered: { objects, included: true }, problems };
}

// ---------------------------------------------------------------------------------------------
// The parse of earlier runs, by content. Parsing the YAML was the largest single CPU cost of a
// command that renders (about a fifth of an `up` with nothing to change, profiled): the yaml
// package reads the stack's 40 KB in 100-500 ms before its code is warm. A file whose text,
// name, variables and renderer (this module's code, the yaml package's version) are the same as
// before is read back from ${XDG_CACHE_HOME:-~/.cache}/todo-deploy/render/<sha256>.json (kept
// for 30 days). Only
// files that rendered without problems and hold no Secret are kept (Secrets never live in the
// repository: the policy refuses one, and it is not copied here); RENDER_CACHE=off turns it off.

let rendererId: string | undefined;

/** This module's own code and the yaml package's version: a change to either makes every entry a miss. */
function renderer(): string {
  if (rendererId === undefined) {
    const hash = createHash('sha256');
    hash.update(readFileSync(fileURLToPath(import.meta.url)));
    hash.update(String((createRequire(import.meta.url)('yaml/package.json') as { version?: string }).version));
    rendererId = hash.digest('hex');
  }
  return rendererId;
}

function renderCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'todo-deploy', 'render');
}

const RENDER_CACHE_DAYS = 30;

/** Entries written more than RENDER_CACHE_DAYS ago go (on a miss only: a hit reads one file and nothing else). */
function pruneRenderCache(): void {
  const dir = renderCacheDir();
  const before = Date.now() - RENDER_CACHE_DAYS * 24 * 60 * 60 * 1000;
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      if (statSync(file).mtimeMs < before) rmSync(file, { force: true });
    } catch {
      // removed meanwhile by another run
    }
  }
}

/** renderText, answered from the cache when the same text was rendered the same way before. */
export function renderCached(text: string, vars: Vars, file: string): { rendered: RenderedFile; problems: Problem[] } {
  if (process.env.RENDER_CACHE === 'off') return renderText(text, vars, file);
  let entry: string | undefined;
  try {
    // The file's name is not part of the entry (objects carry none; it is added back), so copies share one.
    const key = createHash('sha256').update(renderer()).update('\0').update(JSON.stringify(Object.entries(vars).sort())).update('\0').update(text).digest('hex');
    entry = path.join(renderCacheDir(), `${key}.json`);
    const cached = JSON.parse(readFileSync(entry, 'utf8')) as { objects: { object: KubeObject; line: number }[] };
    return { rendered: { objects: cached.objects.map((o) => ({ object: o.object, file, line: o.line })), included: true }, problems: [] };
  } catch {
    // no entry yet (or an unreadable one): render, and keep it when it may be kept
  }
  const result = renderText(text, vars, file);
  const { objects, included } = result.rendered;
  if (!included || result.problems.length > 0 || objects.some((o) => o.object.kind === 'Secret')) return result;
  const stored = { objects: objects.map((o) => ({ object: o.object, line: o.line })) };
  const json = JSON.stringify(stored);
  // Only values JSON keeps exactly (a YAML .inf or .nan would come back as null).
  if (entry === undefined || !isDeepStrictEqual(JSON.parse(json), stored)) return result;
  try {
    mkdirSync(renderCacheDir(), { recursive: true, mode: 0o700 });
    pruneRenderCache();
    const tmp = `${entry}.${process.pid}.tmp`;
    writeFileSync(tmp, json, { mode: 0o600 });
    renameSync(tmp, entry);
  } catch {
    // a cache that cannot be written only costs the next run the parse
  }
  return result;
}

/** The manifest files of a folder, top level only (sub-folders such as crds/ are not part of the stack). */
export function manifestFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`The manifests folder ${dir} does not exist. Fix: run from the repository root or pass --manifests <folder>.`);
  }
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Renders every manifest in `dir`. All problems of all files are reported together in one
 * UsageError; `labelRoot` makes file names relative for messages.
 */
export function renderManifests(dir: string, vars: Vars, labelRoot = process.cwd(), maxBytes = manifestMaxBytes()): SourcedObject[] {
  const objects: SourcedObject[] = [];
  const problems: Problem[] = [];
  for (const abs of manifestFiles(dir)) {
    const file = path.relative(labelRoot, abs) || abs;
    const size = statSync(abs).size;
    if (size > maxBytes) {
      problems.push({ file, key: 'size', message: `the file is ${size} bytes (${mib(size)}), over the limit of ${maxBytes} bytes (${mib(maxBytes)}) for one manifest file, so it was not read.`, fix: 'split it into smaller files, or raise the limit with MANIFEST_MAX_BYTES=<bytes> if a file this large is intended.' });
      continue;
    }
    const result = renderCached(readFileSync(abs, 'utf8'), vars, file);
    objects.push(...result.rendered.objects);
    problems.push(...result.problems);
  }
  if (problems.length > 0) {
    throw new UsageError(formatProblems(`The manifests have ${problems.length} problem(s); nothing was sent to a cluster:`, problems));
  }
  return objects;
}

export const MANAGED_LABELS = {
  'app.kubernetes.io/managed-by': 'todo-deploy',
  'app.kubernetes.io/part-of': 'todo',
} as const;

/** True when the object carries every managed label: `down` deletes only such objects. */
export function isManaged(object: KubeObject): boolean {
  return Object.entries(MANAGED_LABELS).every(([k, v]) => object.metadata.labels?.[k] === v);
}

/** Selector for the objects this tool manages. */
export const MANAGED_SELECTOR = Object.entries(MANAGED_LABELS).map(([k, v]) => `${k}=${v}`).join(',');

/** A copy of the object carrying the managed-by and part-of labels, and the namespace when it is namespaced. */
export function prepareForApply(object: KubeObject, namespace: string | undefined): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...MANAGED_LABELS };
  if (namespace !== undefined && !copy.metadata.namespace) copy.metadata.namespace = namespace;
  return copy;
}
