// The connection pool and the database's state as the app sees it: migrated or not,
// reachable or not. The app starts whether or not PostgreSQL answers; until the schema
// is in place, /readyz says 503 and API calls say 503, while a background loop (and
// every readiness check) retries the migration.

import pg from 'pg';
import type { Logger } from './shared/log.ts';
import { errorFields } from './shared/log.ts';
import { migrate } from './migrations.ts';

export class DatabaseUnavailable extends Error {}

export interface Readiness {
  ready: boolean;
  reason?: string;
}

// SQLSTATE classes that mean "the database cannot serve right now", not "bad query":
// 08 connection exception, 53 insufficient resources, 57 operator intervention
// (e.g. 57P01 admin_shutdown, 57P03 cannot_connect_now).
const UNAVAILABLE_CLASSES = ['08', '53', '57'];
// undefined_table: the schema is gone (a database replaced by an empty one, e.g. an
// embedded dev PostgreSQL restarted without its volume). Not ready until re-migrated.
const SCHEMA_MISSING = '42P01';

// pg's own messages when a connection breaks or cannot be made.
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Cannot use a pool after calling end/i;

/** True when an error from pg means the database is unreachable or going away. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseUnavailable) return true;
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (err instanceof pg.DatabaseError) {
    return typeof code === 'string' && (code === SCHEMA_MISSING || UNAVAILABLE_CLASSES.includes(code.slice(0, 2)));
  }
  // Socket errors from node:net: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND, ...
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return CONNECTION_MESSAGES.test(err.message);
}

export interface DatabaseOptions {
  url: string | undefined;
  log: Logger;
  /** Readiness answers within this bound even when the network hangs. */
  pingTimeoutMs?: number;
}

export class Database {
  readonly pool: pg.Pool | undefined;
  private migrated = false;
  private migrating: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly pingTimeoutMs: number;

  constructor(options: DatabaseOptions) {
    this.log = options.log;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 900;
    if (options.url) {
      this.pool = new pg.Pool({
        connectionString: options.url,
        max: 10,
        connectionTimeoutMillis: 2000,
        idleTimeoutMillis: 30_000,
        query_timeout: 15_000,
        application_name: 'todo-backend',
      });
      // An idle client whose server went away emits here; without a listener the
      // process would crash. The pool drops that client by itself.
      this.pool.on('error', (err) => this.log.warn('idle database connection lost', errorFields(err, this.log.level)));
    }
  }

  /** Applies pending migrations once; concurrent callers share the attempt. */
  ensureMigrated(): Promise<void> {
    if (this.migrated) return Promise.resolve();
    if (!this.pool) return Promise.reject(new DatabaseUnavailable('DATABASE_URL is not set'));
    this.migrating ??= migrate(this.pool)
      .then((applied) => {
        this.migrated = true;
        this.log.info('database schema ready', { applied });
      })
      .finally(() => {
        this.migrating = undefined;
      });
    return this.migrating;
  }

  /** Called with a failed query's error: a missing schema is migrated again. */
  observe(err: unknown): void {
    if (err instanceof pg.DatabaseError && err.code === SCHEMA_MISSING && this.migrated) {
      this.migrated = false;
      this.log.warn('database schema missing, migrating again');
      this.migrateInBackground();
    }
  }

  /**
   * Like ensureMigrated, but an attempt already in flight (which may have started before
   * the database came back) does not decide for this caller: after it fails, one more.
   */
  private async migratedNow(): Promise<void> {
    if (this.migrating) await this.migrating.catch(() => undefined);
    return this.ensureMigrated();
  }

  /** Retries the migration in the background until it succeeds (backoff up to 10 s). */
  migrateInBackground(delayMs = 500): void {
    if (this.closed || this.migrated || !this.pool) return;
    this.ensureMigrated().catch((err) => {
      this.log.warn('database not ready, will retry', { ...errorFields(err, this.log.level), retryInMs: delayMs });
      this.retryTimer = setTimeout(() => this.migrateInBackground(Math.min(delayMs * 2, 10_000)), delayMs);
      this.retryTimer.unref();
    });
  }

  /**
   * Ready = schema in place and the database answers SELECT 1, all within the ping
   * timeout (Kubernetes probes give up after timeoutSeconds, 1 s by default).
   */
  async readiness(): Promise<Readiness> {
    if (!this.pool) return { ready: false, reason: 'DATABASE_URL is not set' };
    const pool = this.pool;
    const check = async (): Promise<void> => {
      await this.migratedNow();
      // Reads the migrations table rather than SELECT 1, so a schema that vanished shows.
      // query_timeout per query is supported by pg but missing from its QueryConfig type.
      await pool
        .query({ text: 'SELECT 1 FROM schema_migrations LIMIT 1', query_timeout: this.pingTimeoutMs } as pg.QueryConfig)
        .catch((err: unknown) => {
          this.observe(err);
          throw err;
        });
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.pingTimeoutMs} ms`)), this.pingTimeoutMs);
    });
    try {
      await Promise.race([check(), deadline]);
      return { ready: true };
    } catch (err) {
      this.log.debug('readiness check failed', errorFields(err, this.log.level));
      return { ready: false, reason: this.migrated ? 'database unreachable' : 'database unreachable or schema not migrated yet' };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The pool, once the schema is in place; otherwise DatabaseUnavailable. */
  async ready(): Promise<pg.Pool> {
    if (!this.pool) throw new DatabaseUnavailable('DATABASE_URL is not set');
    try {
      await this.migratedNow();
    } catch (err) {
      throw new DatabaseUnavailable(err instanceof Error ? err.message : String(err));
    }
    return this.pool;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.migrating?.catch(() => undefined);
    await this.pool?.end();
  }
}
