// Output of suites that run at once: each whole line with its suite's name in front, so the
// lines of two suites can be told apart in one log. A line is passed on once it is complete
// (uvu prints a file's dots on one line, which then arrives whole).

/** Splits what arrived after an unfinished line into whole lines with the prefix, and what is left unfinished. Pure. */
export function prefixLines(prefix: string, unfinished: string, chunk: string): { lines: string; unfinished: string } {
  const parts = (unfinished + chunk).split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts.map((l) => `${prefix}${l}\n`).join(''), unfinished: rest };
}

/** A writer that prefixes whole lines, or passes everything through as it comes when `prefix` is empty. */
export class LaneOutput {
  private unfinished = '';

  constructor(
    private readonly prefix: string,
    private readonly stream: NodeJS.WritableStream,
  ) {}

  write(text: string): void {
    if (!this.prefix) {
      this.stream.write(text);
      return;
    }
    const { lines, unfinished } = prefixLines(this.prefix, this.unfinished, text);
    this.unfinished = unfinished;
    if (lines) this.stream.write(lines);
  }

  /** Writes what is left of an unfinished line. */
  end(): void {
    if (this.unfinished) this.stream.write(`${this.prefix}${this.unfinished}\n`);
    this.unfinished = '';
  }
}
