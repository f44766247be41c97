// Entry point: read the configuration, start listening at once (the database may come
// later), migrate the schema in the background, and stop cleanly on SIGTERM:
// stop accepting, let requests in flight finish (bounded by SHUTDOWN_TIMEOUT_MS),
// wait for event publishes, close the pool, exit 0 (apps/shared/shutdown.ts, shared with the mcp-server).

import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { createOpenAI } from './chat.ts';
import { ConfigError, loadConfig, secretsOf } from './config.ts';
import { Database } from './database.ts';
import { daprEvents, noEvents } from './events.ts';
import { createLogger } from './shared/log.ts';
import { gracefulShutdown } from './shared/shutdown.ts';

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

  const shutdown = gracefulShutdown({
    log,
    timeoutMs: config.shutdownTimeoutMs,
    cleanup: async () => {
      await events.drain();
      await db.close();
    },
  });
  const server = createServer(
    createApp({ db, events, log, openai, shuttingDown: shutdown.shuttingDown, onResponseDone: shutdown.onResponseDone }),
  );
  shutdown.attach(server);

  server.listen(config.port, () => {
    log.info('listening', {
      port: config.port,
      chat: openai ? 'enabled' : 'disabled',
      events: config.daprHttpPort ? 'dapr' : 'off',
    });
    db.migrateInBackground();
  });
}

main();
