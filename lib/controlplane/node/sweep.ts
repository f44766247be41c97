// The real node's sweep as a program of its own, for the control plane's reaper: when the
// process that started a node dies without stopping it (even by SIGKILL), the reaper kills the
// processes, then runs this before it removes any folder.
//
//   node --import tsx lib/controlplane/node/sweep.ts <record.json>

import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sweepRealNode, type RealNodeRecord } from './index.ts';

export const SWEEP_SCRIPT = fileURLToPath(import.meta.url);

/** The command line that sweeps the node recorded in recordFile. */
export function sweepCommand(recordFile: string): string[] {
  return [process.execPath, '--import', import.meta.resolve('tsx'), SWEEP_SCRIPT, recordFile];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('Usage: node --import tsx lib/controlplane/node/sweep.ts <record.json>');
    process.exit(2);
  }
  const record = JSON.parse(readFileSync(file, 'utf8')) as RealNodeRecord;
  const left = sweepRealNode(record);
  if (left.length) {
    console.error(`real node sweep: left ${left.join('; ')}`);
    process.exit(1);
  }
}
