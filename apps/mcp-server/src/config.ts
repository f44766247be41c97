// Configuration from environment variables only, checked once at start-up.

import type { Level } from './shared/log.ts';

export interface Config {
  port: number;
  /** Where the todo API answers; the tools call it. */
  backendUrl: string;
  /** Bound on each call to the backend. */
  backendTimeoutMs: number;
  logLevel: Level;
  /** How long SIGTERM waits for requests in flight before closing their connections. */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {}

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}; fix it or unset it for the default ${fallback}.`);
  }
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!LEVELS.includes(logLevel as Level)) {
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)} is not a log level: use one of ${LEVELS.join(', ')}.`);
  }
  const backendUrl = (env.BACKEND_URL?.trim() || 'http://backend-svc:8000').replace(/\/+$/, '');
  if (!URL.canParse(backendUrl) || !/^https?:$/.test(new URL(backendUrl).protocol)) {
    throw new ConfigError(`BACKEND_URL=${JSON.stringify(env.BACKEND_URL)} is not an http(s) URL: set it to the backend's address, e.g. http://backend-svc:8000.`);
  }
  return {
    port: wholeNumber(env, 'PORT', 8080, 1, 65535),
    backendUrl,
    backendTimeoutMs: wholeNumber(env, 'BACKEND_TIMEOUT_MS', 10_000, 1, 600_000),
    logLevel: logLevel as Level,
    shutdownTimeoutMs: wholeNumber(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
  };
}

/** Values never to log: a password someone may have put into BACKEND_URL. */
export function secretsOf(config: Config): string[] {
  const { password } = new URL(config.backendUrl);
  return password ? [decodeURIComponent(password)] : [];
}
