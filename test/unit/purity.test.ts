// The pure core stays pure: following every static import from the modules below never reaches
// the Kubernetes client or the watch module (they are the I/O shell), and nothing under lib/
// imports from test/. Read from the sources, so a new import that breaks this fails here.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const lib = (file: string) => path.join(REPO, 'lib', file);

const PURE = ['config.ts', 'order.ts', 'kinds.ts', 'readiness.ts', 'manifests.ts', 'plan.ts', 'diagnose.ts', 'view/durations.ts', ...readdirSync(lib('policy'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts') && f !== 'server-dry-run.ts').map((f) => `policy/${f}`)];
const FORBIDDEN = [/^@kubernetes\/client-node/, /kube\/watch\.ts$/];

/**
 * Every module a module imports: `import ... from 'x'` and `export ... from 'x'` (type-only ones
 * included), `import 'x'` for its side effects, and `import('x')` loaded later, which is a
 * dependency all the same.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const forms = [/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm, /^\s*import\s+['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  return forms.flatMap((form) => [...text.matchAll(form)].map((m) => m[1]!));
}

/** Every module reached from `start`, with the chain that reached it. */
function reach(start: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of importsOf(file)) {
      const target = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec;
      if (seen.has(target)) continue;
      seen.set(target, [...seen.get(file)!, target]);
      if (spec.startsWith('.') && /\.(ts|mjs)$/.test(target)) queue.push(target);
    }
  }
  return seen;
}

const test = suite('purity: the core imports no I/O');

for (const module of PURE) {
  test(`lib/${module} reaches neither the Kubernetes client nor the watch module`, () => {
    for (const [target, chain] of reach(lib(module))) {
      const bad = FORBIDDEN.some((re) => re.test(target));
      assert.not.ok(bad, `lib/${module} reaches ${target}: ${chain.map((c) => path.relative(REPO, c)).join(' -> ')}`);
    }
  });
}

test('no module under lib/ imports from test/', () => {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : /\.(ts|mjs)$/.test(full) ? [full] : [];
  });
  for (const file of walk(path.join(REPO, 'lib'))) {
    for (const spec of importsOf(file)) {
      const target = spec.startsWith('.') ? path.resolve(path.dirname(file), spec) : spec;
      assert.not.ok(target.startsWith(path.join(REPO, 'test') + path.sep), `${path.relative(REPO, file)} imports ${spec}`);
    }
  }
});

test.run();
