// Where a suite's wall time goes, file by file, read from uvu's own output: uvu loads every
// file of the suite, then runs them in turn and prints each file's name (alone on its line)
// as it starts it. So a file's time runs from its name to the next file's name (or uvu's
// "Total:" line); what comes before the first name is loading (tsx compiling, the files'
// top-level code), what comes after "Total:" is the process ending (after hooks' leftovers,
// exit handlers). uvu's own "Duration" leaves both out.

export interface SuiteTimes {
  /** From the start of the process to the first file's name. */
  loading: number;
  /** Each file in run order with its seconds. */
  files: { file: string; seconds: number }[];
  /** From uvu's "Total:" line to the end of the process. */
  ending: number;
  total: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** What marks a moment in uvu's output: a file starts, or the run ends. Pure. */
export function lineMark(line: string, isSuiteFile: (name: string) => boolean): { file: string } | 'total' | undefined {
  const plain = line.replace(ANSI, '').trim();
  if (/^Total:\s+\d+$/.test(plain)) return 'total';
  if (/^\S+\.[cm]?[jt]sx?$/.test(plain) && isSuiteFile(plain)) return { file: plain };
  return undefined;
}

/** Seconds per file from the moments marks were seen (ms since the process started). Pure. */
export function suiteTimes(marks: { at: number; mark: { file: string } | 'total' }[], endedAt: number): SuiteTimes {
  const files: SuiteTimes['files'] = [];
  let loading = endedAt;
  let totalAt: number | undefined;
  marks.forEach(({ at, mark }, i) => {
    if (mark === 'total') {
      totalAt ??= at;
      return;
    }
    if (files.length === 0) loading = at;
    const next = marks[i + 1]?.at ?? endedAt;
    files.push({ file: mark.file, seconds: (next - at) / 1000 });
  });
  return { loading: loading / 1000, files, ending: totalAt === undefined ? 0 : (endedAt - totalAt) / 1000, total: endedAt / 1000 };
}

/** Collects marks from a child's output as it arrives (whole lines only). */
export class FileClock {
  private readonly started = Date.now();
  private readonly marks: { at: number; mark: { file: string } | 'total' }[] = [];
  private partial = '';

  constructor(private readonly isSuiteFile: (name: string) => boolean) {}

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    const at = Date.now() - this.started;
    for (const line of lines) {
      const mark = lineMark(line, this.isSuiteFile);
      if (mark) this.marks.push({ at, mark });
    }
  }

  finish(): SuiteTimes {
    return suiteTimes(this.marks, Date.now() - this.started);
  }
}

/** The lines the test command prints after a suite: its wall time, then one line per file. Pure. */
export function formatSuiteTimes(suite: string, t: SuiteTimes): string[] {
  const s = (n: number) => `${n.toFixed(1)} s`;
  return [
    `== ${suite}: ${s(t.total)} wall (loading ${s(t.loading)}, ending ${s(t.ending)})`,
    ...t.files.map(({ file, seconds }) => `  ${s(seconds).padStart(8)}  ${file}`),
  ];
}
