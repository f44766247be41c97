// Entry point: read the configuration, listen, and stop cleanly on SIGTERM: stop
// accepting, let requests in flight finish (bounded by SHUTDOWN_TIMEOUT_MS), exit 0.

import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { backendClient } from './backend-client.ts';
import { ConfigError, loadConfig, secretsOf, type Config } from './config.ts';
import { createLogger, errorFields } from './log.ts';

function main(): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`todo-mcp-server: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, secretsOf(config));
  const backend = backendClient(config.backendUrl, config.backendTimeoutMs);

  let shuttingDown = false;
  const server = createServer(
    createApp({
      backend,
      log,
      shuttingDown: () => shuttingDown,
      onResponseDone: () => {
        if (shuttingDown) setImmediate(() => server.closeIdleConnections());
      },
    }),
  );

  server.on('error', (err) => {
    log.error('server error', errorFields(err, log.level));
    process.exit(1);
  });

  server.listen(config.port, () => {
    log.info('listening', { port: config.port, endpoint: '/mcp', backend: new URL(config.backendUrl).host });
  });

  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    const force = setTimeout(() => {
      log.warn('requests still in flight at the shutdown deadline; closing their connections', {
        timeoutMs: config.shutdownTimeoutMs,
      });
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      log.info('stopped');
      process.exit(0);
    });
    server.closeIdleConnections();
    // Logged once the listener is closed: from here on, new connections are refused.
    log.info('shutting down', { signal });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main();
