// Stopping cleanly on SIGTERM (and SIGINT): stop accepting, let the requests in flight finish
// (bounded by the shutdown timeout, then their connections are closed), run the app's own
// clean-up, exit 0; exit 1 when the clean-up fails or the server cannot listen.

import type { Server } from 'node:http';
import { errorFields, type Logger } from './log.ts';

export interface ShutdownOptions {
  log: Logger;
  /** How long requests in flight may take once the signal came (SHUTDOWN_TIMEOUT_MS). */
  timeoutMs: number;
  /** The app's own clean-up after the last request (drain events, close the pool). */
  cleanup?: () => Promise<void>;
}

export interface Shutdown {
  /** True once a signal came: responses then ask the client to close the connection. */
  shuttingDown: () => boolean;
  /** Called when a response is done: during shutdown its connection, idle now, is closed. */
  onResponseDone: () => void;
  /** Watches the server's errors and the signals; call once the server listens. */
  attach: (server: Server) => void;
}

export function gracefulShutdown(options: ShutdownOptions): Shutdown {
  const { log, timeoutMs, cleanup } = options;
  let server: Server | undefined;
  let shuttingDown = false;

  const stop = (signal: string) => {
    if (shuttingDown || !server) return;
    shuttingDown = true;
    const listening = server;
    const force = setTimeout(() => {
      log.warn('requests still in flight at the shutdown deadline; closing their connections', { timeoutMs });
      listening.closeAllConnections();
    }, timeoutMs);
    force.unref();
    listening.close(async () => {
      clearTimeout(force);
      try {
        await cleanup?.();
        log.info('stopped');
        process.exit(0);
      } catch (err) {
        log.error('error while stopping', errorFields(err, log.level));
        process.exit(1);
      }
    });
    // Keep-alive connections with no request in flight would hold close() open.
    listening.closeIdleConnections();
    // Logged once the listener is closed: from here on, new connections are refused.
    log.info('shutting down', { signal });
  };

  return {
    shuttingDown: () => shuttingDown,
    onResponseDone: () => {
      if (shuttingDown) setImmediate(() => server?.closeIdleConnections());
    },
    attach: (s) => {
      server = s;
      s.on('error', (err) => {
        log.error('server error', errorFields(err, log.level));
        process.exit(1);
      });
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
  };
}
