// Runs lib/controlplane/build/build.sh for some groups and passes on its progress: which
// group it builds, the elapsed time every 20 s, the time the same build took last time. The
// go output stays in each group's build.log; a failure comes back naming the group and that log.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { buildScript, type Group } from './versions.ts';

export interface BuildResult {
  ok: boolean;
  /** build.sh's own error lines (group, log file, the log's last lines) when it failed. */
  error?: string;
}

/** Builds the groups that are not current (build.sh skips the rest), calling progress with each line. */
export function buildGroups(groups: readonly Group[], progress: (line: string) => void, env: NodeJS.ProcessEnv = process.env, script = buildScript): Promise<BuildResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', [script, ...groups], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const errors: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => progress(line.replace(/^\[controlplane build\] /, '')));
    createInterface({ input: child.stderr }).on('line', (line) => errors.push(line));
    child.on('error', (err) => resolve({ ok: false, error: `could not run bash ${script}: ${err.message}` }));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ ok: true });
      else resolve({ ok: false, error: errors.join('\n') || `bash ${script} ${groups.join(' ')} ended with ${code ?? signal}` });
    });
  });
}
