// Before `up` builds and pushes anything to REGISTRY (prod, --cluster current): does anything
// answer at the registry's address? A registry that is down would otherwise show only after
// every image was built, as docker's retry messages, while the run had already installed or
// changed things in the cluster. One TCP connection, no HTTP: a registry with its own TLS
// certificate or authentication answers too, and docker judges those itself when it pushes.
import { connect } from 'node:net';

/** The host and port of REGISTRY's first component (`host[:port][/path]`; port 443 when none, as docker assumes). Pure. */
export function registryAddress(registry: string): { host: string; port: number } {
  const first = registry.trim().replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(first);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? Number(bracketed[2]) : 443 };
  const colon = first.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(first.slice(colon + 1))) return { host: first.slice(0, colon), port: Number(first.slice(colon + 1)) };
  return { host: first, port: 443 };
}

/** Why a connection failed, in words (the system's code kept for the search engine). Pure. */
export function describeConnectError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused: nothing listens there (ECONNREFUSED)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the name does not resolve (${err.code})`;
    case 'ETIMEDOUT':
      return 'no answer within the time allowed (ETIMEDOUT)';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to it (${err.code})`;
    default:
      return err.message;
  }
}

/** Resolves undefined when a TCP connection to host:port opens, else the reason it did not. */
export function probeTcp(host: string, port: number, timeoutMs = 5_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMs, () => done(describeConnectError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err) => done(describeConnectError(err)));
  });
}
