// The test command's time per file, read from uvu's output (test/file-times.ts).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { formatSuiteTimes, lineMark, suiteTimes } from '../file-times.ts';

const test = suite();

const files = new Set(['a.test.ts', 'sub/b.test.ts']);
const isFile = (f: string) => files.has(f);

test("a file's name alone on its line (uvu prints it bold and underlined) starts it; uvu's Total line ends the run", () => {
  assert.equal(lineMark('\u001b[1m\u001b[4m\u001b[37ma.test.ts\u001b[22m\u001b[24m\u001b[39m', isFile), { file: 'a.test.ts' });
  assert.equal(lineMark('sub/b.test.ts', isFile), { file: 'sub/b.test.ts' });
  assert.is(lineMark('  Total:     31', isFile), 'total');
  // A name that is not one of the suite's files, or one inside other output, is not a mark.
  assert.is(lineMark('other.test.ts', isFile), undefined);
  assert.is(lineMark('reading a.test.ts', isFile), undefined);
  assert.is(lineMark('  Passed:    31', isFile), undefined);
});

test('each file runs from its name to the next mark; loading before the first, ending after Total', () => {
  const t = suiteTimes(
    [
      { at: 2000, mark: { file: 'a.test.ts' } },
      { at: 12500, mark: { file: 'sub/b.test.ts' } },
      { at: 15000, mark: 'total' },
    ],
    16000,
  );
  assert.equal(t, { loading: 2, files: [{ file: 'a.test.ts', seconds: 10.5 }, { file: 'sub/b.test.ts', seconds: 2.5 }], ending: 1, total: 16 });
  assert.equal(formatSuiteTimes('unit', t), ['== unit: 16.0 s wall (loading 2.0 s, ending 1.0 s)', '    10.5 s  a.test.ts', '     2.5 s  sub/b.test.ts']);
});

test('a suite that crashed before any file started is all loading; one cut short has no ending', () => {
  assert.equal(suiteTimes([], 3000), { loading: 3, files: [], ending: 0, total: 3 });
  assert.equal(suiteTimes([{ at: 1000, mark: { file: 'a.test.ts' } }], 4000), { loading: 1, files: [{ file: 'a.test.ts', seconds: 3 }], ending: 0, total: 4 });
});

test.run();
