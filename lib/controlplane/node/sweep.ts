// The real nodes' sweep as a program of its own, for the control plane's reaper: when the
// process that started a node dies without stopping it (even by SIGKILL), the reaper kills the
// processes, then runs this before it removes any folder. Given the first node's record, it
// sweeps the plane's further nodes too.
//
//   node --import tsx lib/controlplane/node/sweep.ts <record.json>

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT as repoRoot } from '../../repo-root.ts';
import { furtherNodeRecords, sweepRealNode, type RealNodeRecord } from './index.ts';

export const SWEEP_SCRIPT = join(repoRoot, 'lib', 'controlplane', 'node', 'sweep.ts');

/** The command that sweeps the node recorded in recordFile (run in the repository, where tsx resolves). */
export function sweepCommand(recordFile: string): { argv: string[]; cwd: string } {
  return { argv: [process.execPath, '--import', 'tsx', SWEEP_SCRIPT, recordFile], cwd: repoRoot };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = process.argv[2];
  if (!file) {
    console.error('Usage: node --import tsx lib/controlplane/node/sweep.ts <record.json>');
    process.exit(2);
  }
  const record = JSON.parse(readFileSync(file, 'utf8')) as RealNodeRecord;
  // The further nodes' records lie next to the first node's folder: swept before it.
  const left = [...furtherNodeRecords(dirname(record.dir)).flatMap((r) => sweepRealNode(r)), ...sweepRealNode(record)];
  if (left.length) {
    console.error(`real node sweep: left ${left.join('; ')}`);
    process.exit(1);
  }
}
