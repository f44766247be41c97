// Reads the server's settings from the environment and refuses bad ones with a message that
// names the variable and the fix, so a misconfigured pod fails at start, not on first request.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  port: number;
  /** Origin of the backend API; request paths are appended to it. */
  backendOrigin: string;
  secret: string;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const MIN_SECRET_LENGTH = 32;

export function readConfig(env: Record<string, string | undefined>): Config {
  return {
    port: readPort(env.PORT),
    backendOrigin: readBackendOrigin(env.BACKEND_URL),
    secret: readSecret(env.BETTER_AUTH_SECRET),
    logLevel: readLogLevel(env.LOG_LEVEL),
  };
}

function readPort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 3000;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new ConfigError(
      `PORT is "${raw}", which is not a port number. Set PORT to an integer from 0 to 65535 (default 3000).`,
    );
  }
  return port;
}

function readBackendOrigin(raw: string | undefined): string {
  const value = raw === undefined || raw === '' ? 'http://backend-svc:8000' : raw;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(
      `BACKEND_URL is "${value}", which is not a URL. Set it to the backend's origin, for example http://backend-svc:8000.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `BACKEND_URL is "${value}", but only http: and https: backends are supported. Set it to the backend's origin, for example http://backend-svc:8000.`,
    );
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(
      `BACKEND_URL is "${value}", but it must be an origin only (no path, query or credentials), because /api/... paths are forwarded unchanged. Use for example http://backend-svc:8000.`,
    );
  }
  return url.origin;
}

function readSecret(raw: string | undefined): string {
  // The value itself is never echoed: it is a secret even when it is too short.
  if (raw === undefined || raw === '') {
    throw new ConfigError(
      'BETTER_AUTH_SECRET is not set. The frontend signs session cookies with it and will not start without it. ' +
        `Set it to a random string of at least ${MIN_SECRET_LENGTH} characters (for example the output of \`openssl rand -base64 48\`); ` +
        'in the cluster it comes from the better-auth-secret key of the todo-secrets Secret.',
    );
  }
  if (raw.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `BETTER_AUTH_SECRET is only ${raw.length} characters long; session cookies signed with it could be forged. ` +
        `Set it to a random string of at least ${MIN_SECRET_LENGTH} characters (for example the output of \`openssl rand -base64 48\`).`,
    );
  }
  return raw;
}

function readLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  const level = raw.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL is "${raw}". Set it to one of ${LOG_LEVELS.join(', ')} (default info).`);
  }
  return level as LogLevel;
}
