// The same run as JSON lines, one event per line (for tools and CI logs): what the task tree
// draws, without drawing. Errors are reduced to their message (already redacted on output).
import type { Listener, RunEvent } from '../executor.ts';

export function jsonView(write: (line: string) => void): Listener {
  return (event: RunEvent) => {
    const plain = 'error' in event && event.error !== undefined ? { ...event, error: event.error instanceof Error ? event.error.message : String(event.error) } : event;
    write(`${JSON.stringify({ ...plain, at: Date.now() })}\n`);
  };
}
