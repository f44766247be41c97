// A real terminal for a script run: tmux (Debian's, installed by `npm test`, test/system.ts)
// with a private server, a pane of a given size, and the screen read back once the run has
// ended, scrollback included. What a person sees after `npm run up`, not the bytes a renderer
// wrote: a renderer that leaves lines behind (spinner frames, a second list below its tree)
// shows them here, because what it fails to erase stays on the screen or scrolls into history.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../lib/repo-root.ts';

export interface Screen {
  /** The pane's exit status. */
  status: number;
  /** Every line of the pane, scrollback first, trailing empty lines and tmux's own "Pane is dead" line removed. */
  lines: string[];
}

export interface Terminal {
  /**
   * Runs `command` (a shell command line, in the repository) in a new pane of `columns`×`rows`,
   * waits until it ends (at most deadlineMs, then the screen so far is in the error), and
   * returns the screen.
   */
  run(command: string, options?: { columns?: number; rows?: number; deadlineMs?: number }): Promise<Screen>;
  /** Stops the private tmux server and removes its files. */
  close(): void;
}

/**
 * A private tmux server (its own socket), whose panes run with exactly `env`: the caller's own
 * environment (CI=true, say, which chooses the plain renderer) does not leak in.
 */
export function tmuxTerminal(env: NodeJS.ProcessEnv): Terminal {
  const dir = mkdtempSync(path.join(tmpdir(), 'todo-deploy-tmux-'));
  const config = path.join(dir, 'tmux.conf');
  // remain-on-exit: the pane (and its screen) stays after the run ends; a long history so
  // that nothing a run scrolled away is lost; no status line taking a row of the pane.
  writeFileSync(config, ['set -g remain-on-exit on', 'set -g history-limit 100000', 'set -g status off', ''].join('\n'));
  const socket = path.join(dir, 'socket');
  let sessions = 0;
  // Found on this process's PATH: the panes' PATH (env's) need not hold it.
  const program = spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).stdout.trim();

  const tmux = (...args: string[]): string => {
    if (!program) throw new Error("tmux is not installed. Fix: install Debian's tmux (`apt-get install tmux`; npm test does, test/system.ts).");
    const r = spawnSync(program, ['-S', socket, '-f', config, ...args], { encoding: 'utf8', env: { ...env, TMUX: '' } });
    if (r.error) throw new Error(`tmux could not run: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
    return r.stdout;
  };

  const capture = (target: string): string[] => {
    const lines = tmux('capture-pane', '-p', '-t', target, '-S', '-', '-E', '-').split('\n');
    const dead = lines.findLastIndex((l) => l.startsWith('Pane is dead'));
    if (dead >= 0) lines.splice(dead, 1);
    while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
    return lines;
  };

  return {
    async run(command, options = {}) {
      const target = `run${++sessions}`;
      const { columns = 150, rows = 50, deadlineMs = 600_000 } = options;
      tmux('new-session', '-d', '-s', target, '-x', String(columns), '-y', String(rows), '-c', REPO_ROOT, command);
      const deadline = Date.now() + deadlineMs;
      try {
        for (;;) {
          const [dead, status, signal, pid] = tmux('display-message', '-p', '-t', target, '#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}|#{pane_pid}').trim().split('|');
          if (dead === '1' && signal) return { status: 128 + Number(signal), lines: capture(target) };
          if (dead === '1' && status) return { status: Number(status), lines: capture(target) };
          // tmux can mark the pane dead (its terminal closed) without having reaped the program,
          // and then says no status (seen here at high load, on main too): the kernel keeps it.
          const zombie = dead === '1' ? zombieStatus(Number(pid)) : undefined;
          if (zombie !== undefined) return { status: zombie, lines: capture(target) };
          if (Date.now() > deadline) throw new Error(`\`${command}\` did not end within ${deadlineMs / 1000}s; the screen:\n${capture(target).join('\n')}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      } finally {
        tmux('kill-session', '-t', target);
      }
    },
    close() {
      if (program) spawnSync(program, ['-S', socket, 'kill-server'], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The exit status of a program that has ended but was not reaped yet (a zombie), from the last
 * field of /proc/<pid>/stat (exit_code, in waitpid's form); undefined while it runs or once gone.
 */
function zombieStatus(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  if (fields[0] !== 'Z') return undefined;
  const code = Number(fields.at(-1));
  return code & 0x7f ? 128 + (code & 0x7f) : code >> 8;
}
