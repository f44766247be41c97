// The browser's session: a random id in a cookie signed with BETTER_AUTH_SECRET. The backend
// scopes todos by this id, so a forged or altered cookie must never be accepted as-is.
import { randomUUID } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import { sign, unsign } from 'cookie-signature';

export const SESSION_COOKIE = 'todo_session';
// Long enough that a todo list survives browser restarts; Chrome caps cookie lifetimes at 400 days.
const MAX_AGE_SECONDS = 180 * 24 * 60 * 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Session {
  id: string;
  /** Set-Cookie header value to send when the id was just issued, else undefined. */
  setCookie: string | undefined;
}

/** The session id carried by a valid signed cookie, or undefined when absent, unsigned or tampered with. */
export function readSessionId(cookieHeader: string | undefined, secret: string): string | undefined {
  if (!cookieHeader) return undefined;
  const signed = parseCookie(cookieHeader)[SESSION_COOKIE];
  if (!signed) return undefined;
  const id = unsign(signed, secret);
  return id !== false && UUID.test(id) ? id : undefined;
}

export function sessionCookie(id: string, secret: string, secure: boolean): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: sign(id, secret),
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    maxAge: MAX_AGE_SECONDS,
    secure,
  });
}

/** Keeps a valid session, or starts a new one with a fresh random id. */
export function resolveSession(cookieHeader: string | undefined, secret: string, secure: boolean): Session {
  const existing = readSessionId(cookieHeader, secret);
  if (existing) return { id: existing, setCookie: undefined };
  const id = randomUUID();
  return { id, setCookie: sessionCookie(id, secret, secure) };
}
