// Durations as people read them: "840ms", "12.3s", and the table that closes every run.

/** How long one step took, under the name the durations table shows. */
export interface Timing {
  title: string;
  ms: number;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** The closing table: one line per step and the total. */
export function timingSummary(heading: string, timings: readonly Timing[], totalMs: number): string {
  const width = Math.max(...timings.map((t) => t.title.length), 5);
  const rows = timings.map((t) => `  ${t.title.padEnd(width)}  ${formatDuration(t.ms).padStart(7)}`);
  return [heading, ...rows, `  ${'total'.padEnd(width)}  ${formatDuration(totalMs).padStart(7)}`].join('\n');
}
