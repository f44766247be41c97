// Reads the server's settings from the environment and refuses bad ones with a message that
// names the variable and the fix, so a misconfigured pod fails at start, not on first request.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Config {
  port: number;
  /** Origin of the backend API; request paths are appended to it. */
  backendOrigin: string;
  /** Origin of the MCP server; /mcp is forwarded to it. */
  mcpOrigin: string;
  secret: string;
  logLevel: LogLevel;
}

export class ConfigError extends Error {}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
export const MIN_SECRET_LENGTH = 32;

export function readConfig(env: Record<string, string | undefined>): Config {
  return {
    port: readPort(env.PORT),
    backendOrigin: readOrigin('BACKEND_URL', env.BACKEND_URL, 'http://backend-svc:8000', "the backend's", '/api/...'),
    mcpOrigin: readOrigin('MCP_URL', env.MCP_URL, 'http://mcp-server-svc:8080', "the MCP server's", '/mcp'),
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

/** An upstream's origin from NAME (or the in-cluster default), refused with the fix when it is not a bare http(s) origin. */
function readOrigin(name: string, raw: string | undefined, fallback: string, whose: string, forwarded: string): string {
  const value = raw === undefined || raw === '' ? fallback : raw;
  const fix = `Set it to ${whose} origin, for example ${fallback}.`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} is "${value}", which is not a URL. ${fix}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} is "${value}", but only http: and https: are supported. ${fix}`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(
      `${name} is "${value}", but it must be an origin only (no path, query or credentials), because ${forwarded} paths are forwarded unchanged. Use for example ${fallback}.`,
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
