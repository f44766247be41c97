// Entry point: read the configuration, listen, and stop cleanly on SIGTERM: stop
// accepting, let requests in flight finish (bounded by SHUTDOWN_TIMEOUT_MS), exit 0.

import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { backendClient } from './backend-client.ts';
import { ConfigError, loadConfig, secretsOf, type Config } from './config.ts';
import { createLogger } from './shared/log.ts';
import { gracefulShutdown } from './shared/shutdown.ts';

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

  const shutdown = gracefulShutdown({ log, timeoutMs: config.shutdownTimeoutMs });
  const server = createServer(createApp({ backend, log, shuttingDown: shutdown.shuttingDown, onResponseDone: shutdown.onResponseDone }));
  shutdown.attach(server);

  server.listen(config.port, () => {
    log.info('listening', { port: config.port, endpoint: '/mcp', backend: new URL(config.backendUrl).host });
  });
}

main();
