// `todo.changed` events through the Dapr sidecar's pub/sub API. Publishing is
// best-effort: it runs after the response is on its way, gives up after a short
// timeout, and only logs a failure; a missing or slow sidecar never fails a request.
// Shutdown waits for publishes still in flight (each bounded by the timeout).

import type { Logger } from './shared/log.ts';
import { errorFields } from './shared/log.ts';
import type { Todo } from './shared/todo.ts';

export type TodoAction = 'created' | 'updated' | 'completed' | 'deleted';

export interface TodoChanged {
  action: TodoAction;
  userId: string;
  todoId: number;
  /** The todo after the change; absent for deletions. */
  todo?: Todo;
  at: string;
}

export interface Events {
  publish(event: TodoChanged): void;
  /** Resolves when every publish started so far has finished or timed out. */
  drain(): Promise<void>;
}

export const PUBSUB_NAME = 'pubsub';
export const TOPIC = 'todo.changed';

export const noEvents: Events = {
  publish: () => undefined,
  drain: () => Promise.resolve(),
};

export function daprEvents(daprHttpPort: number, log: Logger, timeoutMs = 1000): Events {
  const url = `http://127.0.0.1:${daprHttpPort}/v1.0/publish/${PUBSUB_NAME}/${TOPIC}`;
  const inFlight = new Set<Promise<void>>();

  const send = async (event: TodoChanged): Promise<void> => {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) log.warn('event not published', { topic: TOPIC, action: event.action, status: res.status });
      else log.debug('event published', { topic: TOPIC, action: event.action });
    } catch (err) {
      log.warn('event not published', { topic: TOPIC, action: event.action, ...errorFields(err, log.level) });
    }
  };

  return {
    publish(event) {
      const p = send(event).finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async drain() {
      await Promise.all([...inFlight]);
    },
  };
}
