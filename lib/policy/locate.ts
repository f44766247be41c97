// Points a violation at the line of the offending field rather than the document's first line.
// Interpolation never adds lines, so the manifest file as written has the same line numbers as
// the rendered text; `${VAR}` placeholders parse as plain strings and do not disturb the walk.
import { LineCounter, isMap, isSeq, isScalar, parseAllDocuments, type Document, type Node } from 'yaml';
import type { Violation } from './types.ts';

interface ParsedFile {
  docs: Document.Parsed[];
  counter: LineCounter;
}

function parse(text: string): ParsedFile {
  const counter = new LineCounter();
  return { docs: parseAllDocuments(text, { lineCounter: counter }) as Document.Parsed[], counter };
}

const startLine = (file: ParsedFile, node: unknown) => {
  const at = (node as Node | null)?.range?.[0];
  return at === undefined ? undefined : file.counter.linePos(at).line;
};

/** The object starting at `docLine`: a document, or an entry under a List document's items. */
function objectAt(file: ParsedFile, docLine: number): unknown {
  const doc = file.docs.find((d) => startLine(file, d.contents) === docLine);
  if (doc) return doc.contents;
  for (const d of file.docs) {
    const items = isMap(d.contents) ? d.contents.items.find((p) => isScalar(p.key) && p.key.value === 'items')?.value : undefined;
    const item = isSeq(items) ? items.items.find((n) => startLine(file, n) === docLine) : undefined;
    if (item) return item;
  }
  return undefined;
}

/** The line of the deepest node of `path` found in the object starting at `docLine`. */
export function lineOf(file: ParsedFile, docLine: number, path: readonly (string | number)[]): number | undefined {
  let node: unknown = objectAt(file, docLine);
  if (!node) return undefined;
  let offset: number | undefined = (node as Node | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset === undefined ? undefined : file.counter.linePos(offset).line;
}

/**
 * Returns the violations with `line` moved to the field their `path` names. `read` returns a
 * file's text or undefined (then the document line stays). Works for excepted violations too.
 */
export function refineLines<V extends Violation>(violations: readonly V[], read: (file: string) => string | undefined): V[] {
  const cache = new Map<string, ParsedFile | null>();
  const parsed = (file: string) => {
    if (!cache.has(file)) {
      const text = read(file);
      cache.set(file, text === undefined ? null : parse(text));
    }
    return cache.get(file)!;
  };
  return violations.map((v) => {
    if (!v.path || v.path.length === 0) return v;
    const file = parsed(v.file);
    const line = file ? lineOf(file, v.line, v.path) : undefined;
    return line === undefined ? v : { ...v, line };
  });
}
