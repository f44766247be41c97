// Entry point: `node dist/server.js`. Reads the environment, serves, and on SIGTERM/SIGINT
// finishes the requests in flight before exiting.
import { fileURLToPath } from 'node:url';
import { createApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';
import { createLogger } from './log.ts';
import { loadAssets } from './static.ts';

// Kubernetes waits terminationGracePeriodSeconds (30 s by default) before SIGKILL; stop a bit earlier.
const SHUTDOWN_DEADLINE_MS = 25_000;

function main(): void {
  let config;
  try {
    config = readConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`todo-frontend cannot start: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const assets = loadAssets(fileURLToPath(new URL('../public/', import.meta.url)));
  const { server, shutdown } = createApp(config, log, assets);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      log.warn('shutdown deadline reached, closing open connections', { ms: SHUTDOWN_DEADLINE_MS });
      server.closeAllConnections();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    void shutdown().then(() => {
      log.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  server.on('error', (err: NodeJS.ErrnoException) => {
    process.stderr.write(
      `todo-frontend cannot listen on port ${config.port}: ${err.code ?? err.message}. Free the port or set PORT to another one.\n`,
    );
    process.exit(1);
  });
  server.listen(config.port, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    log.info('listening', { port, backend: config.backendOrigin, mcp: config.mcpOrigin });
  });
}

main();
