// Configuration comes only from environment variables (twelve-factor); this module turns
// them into a typed object once, at start-up, with one clear message per bad value.

import type { Level } from './shared/log.ts';

export interface Config {
  port: number;
  /** Missing is allowed: the process starts, /readyz says why it is not ready. */
  databaseUrl: string | undefined;
  openaiApiKey: string | undefined;
  /** Lets tests (or a proxy) stand in for the OpenAI API. */
  openaiBaseUrl: string | undefined;
  openaiModel: string;
  /** Set by the Dapr sidecar injector; events are published only when present. */
  daprHttpPort: number | undefined;
  logLevel: Level;
  /** How long SIGTERM waits for requests in flight before closing their connections. */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {}

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

function port(env: NodeJS.ProcessEnv, name: string, fallback: number | undefined): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a TCP port: set it to a whole number from 1 to 65535, or unset it.`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!LEVELS.includes(logLevel as Level)) {
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} is not a log level: use one of ${LEVELS.join(', ')}.`);
  }
  const baseUrl = nonEmpty(env.OPENAI_BASE_URL);
  if (baseUrl !== undefined && !URL.canParse(baseUrl)) {
    throw new ConfigError(`OPENAI_BASE_URL=${JSON.stringify(baseUrl)} is not a URL: give a full URL such as https://api.openai.com/v1, or unset it.`);
  }
  const shutdownRaw = env.SHUTDOWN_TIMEOUT_MS ?? '10000';
  const shutdownTimeoutMs = Number(shutdownRaw);
  if (!Number.isInteger(shutdownTimeoutMs) || shutdownTimeoutMs < 0) {
    throw new ConfigError(`SHUTDOWN_TIMEOUT_MS=${JSON.stringify(shutdownRaw)} must be a whole number of milliseconds.`);
  }
  return {
    port: port(env, 'PORT', 8000)!,
    databaseUrl: nonEmpty(env.DATABASE_URL),
    openaiApiKey: nonEmpty(env.OPENAI_API_KEY),
    openaiBaseUrl: baseUrl,
    openaiModel: nonEmpty(env.OPENAI_MODEL) ?? 'gpt-4o-mini',
    daprHttpPort: port(env, 'DAPR_HTTP_PORT', undefined),
    logLevel: logLevel as Level,
    shutdownTimeoutMs,
  };
}

/** Values that must never reach a log line, an error body or a file. */
export function secretsOf(config: Config): string[] {
  const secrets: string[] = [];
  if (config.openaiApiKey) secrets.push(config.openaiApiKey);
  if (config.databaseUrl) {
    secrets.push(config.databaseUrl);
    try {
      const password = decodeURIComponent(new URL(config.databaseUrl).password);
      if (password) secrets.push(password);
    } catch {
      // An unparsable URL is still redacted as a whole above.
    }
  }
  return secrets;
}
