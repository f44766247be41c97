// Entry point: read the configuration, start listening at once (the database may come
// later), migrate the schema in the background, and stop cleanly on SIGTERM:
// stop accepting, let requests in flight finish (bounded by SHUTDOWN_TIMEOUT_MS),
// wait for event publishes, close the pool, exit 0.

import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { createOpenAI } from './chat.ts';
import { ConfigError, loadConfig, secretsOf } from './config.ts';
import { Database } from './database.ts';
import { daprEvents, noEvents } from './events.ts';
import { createLogger, errorFields } from './log.ts';

function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`todo-backend: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, secretsOf(config));

  if (!config.databaseUrl) {
    log.error('DATABASE_URL is not set: the API answers 503 until it is (todo-secrets key database-url)');
  }
  const db = new Database({ url: config.databaseUrl, log });
  const events = config.daprHttpPort ? daprEvents(config.daprHttpPort, log) : noEvents;
  const openai = config.openaiApiKey
    ? { client: createOpenAI(config.openaiApiKey, config.openaiBaseUrl), model: config.openaiModel }
    : undefined;

  let shuttingDown = false;
  const server = createServer(
    createApp({
      db,
      events,
      log,
      openai,
      shuttingDown: () => shuttingDown,
      // A connection whose last request just finished is idle now; during shutdown, close it.
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
    log.info('listening', {
      port: config.port,
      chat: openai ? 'enabled' : 'disabled',
      events: config.daprHttpPort ? 'dapr' : 'off',
    });
    db.migrateInBackground();
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
    server.close(async () => {
      clearTimeout(force);
      try {
        await events.drain();
        await db.close();
        log.info('stopped');
        process.exit(0);
      } catch (err) {
        log.error('error while stopping', errorFields(err, log.level));
        process.exit(1);
      }
    });
    // Keep-alive connections with no request in flight would hold close() open.
    server.closeIdleConnections();
    // Logged once the listener is closed: from here on, new connections are refused.
    log.info('shutting down', { signal });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main();
