// What a valid request looks like, in one place. zod schemas double as the JSON schemas
// of the chat tools (see tools.ts), so the API and the model are held to the same rules.

import { z } from 'zod';
import { HttpError } from './http.ts';

export const TITLE_MAX = 200;

export const title = z
  .string({ error: (issue) => (issue.input === undefined ? 'title is required' : 'title must be a string') })
  .trim()
  .min(1, 'title must not be empty')
  .max(TITLE_MAX, `title must be at most ${TITLE_MAX} characters`);

/** The message for a body that is not an object; other issues keep zod's wording. */
const objectError = (message: string) => (issue: { code?: string; path?: PropertyKey[] }) =>
  issue.code === 'invalid_type' && (issue.path?.length ?? 0) === 0 ? message : undefined;

export const createTodoBody = z.strictObject({ title }, { error: objectError('body must be a JSON object like {"title": "..."}') });

export const updateTodoBody = z
  .strictObject(
    {
      title: title.optional(),
      completed: z.boolean({ error: 'completed must be true or false' }).optional(),
    },
    { error: objectError('body must be a JSON object with "title" and/or "completed"') },
  )
  .refine((body) => body.title !== undefined || body.completed !== undefined, {
    error: 'nothing to change: give "title" and/or "completed"',
  });

export const chatBody = z.strictObject(
  {
    message: z
      .string({ error: (issue) => (issue.input === undefined ? 'message is required' : 'message must be a string') })
      .trim()
      .min(1, 'message must not be empty')
      .max(4000, 'message must be at most 4000 characters'),
  },
  { error: objectError('body must be a JSON object like {"message": "..."}') },
);

export const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** One readable sentence from zod's issues, e.g. `title: title must not be empty`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : '';
      // Messages written above already name their field; zod's own ones do not.
      return where && !issue.message.startsWith(where) ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

export function parseBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, describeIssues(result.error));
  return result.data;
}

export function parseUserId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') {
    throw new HttpError(400, 'missing X-User-Id header: every /api request names the owner of the todos');
  }
  if (!USER_ID.test(value)) {
    throw new HttpError(400, 'X-User-Id must be 1-64 characters of letters, digits, "_" or "-"');
  }
  return value;
}

const MAX_ID = 2 ** 31 - 1; // the todos.id column is a PostgreSQL integer

/** A todo id from the URL; malformed ids are a 400, well-formed unknown ones a 404 later. */
export function parseId(raw: string): number {
  if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_ID) {
    throw new HttpError(400, `todo id must be a whole number from 1 to ${MAX_ID}, got ${JSON.stringify(raw.slice(0, 20))}`);
  }
  return Number(raw);
}
