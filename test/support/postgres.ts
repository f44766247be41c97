// A throwaway PostgreSQL for tests: initdb into a temp folder, postgres on a free
// loopback port, password auth (so connection strings look like real ones), stop and
// start again on the same data (to test "database down, then back"), and removal.
//
// Uses Debian's server binaries (postgresql-15 or newer under /usr/lib/postgresql/*/bin,
// or PG_BIN_DIR). PostgreSQL refuses to run as root, so when the tests run as root
// every server binary runs as the `postgres` user through setpriv, which execs in place:
// the child process IS postgres, so signals reach it directly.
//
// Readiness is the server's own "ready to accept connections" log line (an event, not a
// poll), confirmed by one pg_isready call.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/free-port.ts';

export interface Postgres {
  /** postgres://user:password@127.0.0.1:port/database */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** True while the server process runs. */
  readonly running: boolean;
  /** Fast shutdown (SIGINT); resolves when the server process has exited. */
  stop(): Promise<void>;
  /** Starts the server again on the same data folder and port. */
  start(): Promise<void>;
  /** Stops the server if running and removes its data folder. Safe to call twice. */
  destroy(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): string;
}

export interface PostgresOptions {
  /** Deadline for initdb + start, in ms (default 30000). */
  timeoutMs?: number;
  /**
   * The address to listen on (default 127.0.0.1): the prod-path suite's external database
   * listens where the real nodes' pods reach the host.
   */
  host?: string;
  /** Client ranges (CIDR) allowed in with the password, besides loopback (pg_hba.conf). */
  allow?: string[];
}

const READY_LINE = /database system is ready to accept connections/;

// Every server started by this module, so a crashed suite still leaves nothing behind.
const live = new Set<{ proc: ChildProcess | null; dir: string }>();
process.once('exit', () => {
  for (const entry of live) {
    entry.proc?.kill('SIGKILL');
    rmSync(entry.dir, { recursive: true, force: true });
  }
});

/** Finds the newest Debian PostgreSQL server binaries, or PG_BIN_DIR. */
export function findPostgresBinDir(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) {
    if (!existsSync(join(fromEnv, 'postgres'))) {
      throw new Error(`PG_BIN_DIR=${fromEnv} has no "postgres" binary; point it at a PostgreSQL bin folder.`);
    }
    return fromEnv;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = join(root, version, 'bin');
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  throw new Error(
    'No PostgreSQL server found under /usr/lib/postgresql/*/bin. Install it with ' +
      '`apt-get install -y postgresql` (Debian) or set PG_BIN_DIR to a folder holding initdb and postgres.',
  );
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The command line that runs a server binary as a non-root user. */
function asServerUser(binary: string, args: string[]): [string, string[]] {
  if (!isRoot) return [binary, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', binary, ...args]];
}

function serverUserIds(): { uid: number; gid: number } {
  const id = (flag: string) => {
    const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (out.status !== 0) {
      throw new Error('Running as root but there is no "postgres" user to run PostgreSQL as; install Debian\'s postgresql package, which creates it.');
    }
    return Number(out.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const binDir = findPostgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'todo-pg-'));
  const entry: { proc: ChildProcess | null; dir: string } = { proc: null, dir };
  live.add(entry);
  const dataDir = join(dir, 'data');
  const user = 'postgres';
  const database = 'postgres';
  const password = randomBytes(12).toString('hex');
  const host = options.host ?? '127.0.0.1';

  try {
    const ids = isRoot ? serverUserIds() : null;
    if (ids) chownSync(dir, ids.uid, ids.gid);
    // The password goes to initdb through a file that is removed right after.
    const pwFile = join(dir, 'pw');
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    if (ids) chownSync(pwFile, ids.uid, ids.gid);
    const [cmd, args] = asServerUser(join(binDir, 'initdb'), [
      '-D', dataDir, '-U', user, `--pwfile=${pwFile}`, '--auth=scram-sha-256',
      '-E', 'UTF8', '--no-locale', '--no-sync',
    ]);
    const init = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
    rmSync(pwFile, { force: true });
    if (init.status !== 0) {
      throw new Error(`initdb failed (exit ${init.status}): ${(init.stderr || init.stdout || String(init.error)).trim()}`);
    }
    if (options.allow?.length) appendFileSync(join(dataDir, 'pg_hba.conf'), options.allow.map((cidr) => `host all all ${cidr} scram-sha-256\n`).join(''));
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
    throw err;
  }

  const port = await freePort();
  let logText = '';

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (entry.proc) return reject(new Error('postgres is already running'));
      const [cmd, args] = asServerUser(join(binDir, 'postgres'), [
        '-D', dataDir, '-p', String(port), '-k', dir,
        '-c', `listen_addresses=${host}`,
        // Throwaway data: durability is not worth the time here.
        '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=50', '-c', 'shared_buffers=16MB',
      ]);
      const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      entry.proc = proc;
      let ready = false;
      const from = logText.length; // only this run's log counts
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`postgres did not become ready within ${timeoutMs} ms. Log:\n${logText.slice(-2000)}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        logText += chunk.toString('utf8');
        if (!ready && READY_LINE.test(logText.slice(from))) {
          ready = true;
          clearTimeout(timer);
          const check = spawnSync(join(binDir, 'pg_isready'), ['-h', host, '-p', String(port), '-t', '5'], { encoding: 'utf8' });
          if (check.status === 0) resolve();
          else reject(new Error(`postgres logged ready but pg_isready says: ${check.stdout.trim()}`));
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code, signal) => {
        if (entry.proc === proc) entry.proc = null;
        if (!ready) {
          clearTimeout(timer);
          reject(new Error(`postgres exited before it was ready (code ${code}, signal ${signal}). Log:\n${logText.slice(-2000)}`));
        }
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const proc = entry.proc;
      if (!proc) return resolve();
      // SIGINT = "fast" shutdown: disconnect clients, no waiting for them.
      const hard = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      proc.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      proc.kill('SIGINT');
    });

  try {
    await start();
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
    throw err;
  }

  const url = `postgres://${user}:${password}@${host}:${port}/${database}`;
  return {
    url, host, port, user, password, database,
    get running() {
      return entry.proc !== null;
    },
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
      live.delete(entry);
    },
    log: () => logText,
  };
}
