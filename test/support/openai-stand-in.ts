// openai-stand-in: a local HTTP server that answers the OpenAI Chat Completions API
// (POST /v1/chat/completions) from a script the test writes, and records every request
// it was sent. It stands in for api.openai.com, which these machines cannot reach.
//
// The script gets each recorded request and returns what the "model" says: words, or
// tool calls. It may return a promise, which lets a test hold a request open.

import { Recording } from './recording.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolCallScript {
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface ModelAnswer {
  content?: string;
  toolCalls?: ToolCallScript[];
  /** Answer with this HTTP error status instead (e.g. 401, 500). */
  errorStatus?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: {
    model?: string;
    messages?: Array<{ role: string; content?: unknown; tool_calls?: unknown[]; tool_call_id?: string }>;
    tools?: Array<{ type: string; function: { name: string; description?: string; parameters?: unknown } }>;
    [key: string]: unknown;
  };
}

export type Script = (request: RecordedRequest, index: number) => ModelAnswer | Promise<ModelAnswer>;

export interface OpenAIStandIn {
  /** The base URL to give the client as OPENAI_BASE_URL (ends in /v1). */
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Replaces the script for the requests still to come. */
  setScript(script: Script): void;
  /** Resolves when the n-th request (1-based) has arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

function completion(model: string, answer: ModelAnswer, index: number) {
  const toolCalls = (answer.toolCalls ?? []).map((call, i) => ({
    id: `call_${index}_${i}`,
    type: 'function' as const,
    function: {
      name: call.name,
      arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
    },
  }));
  return {
    id: `chatcmpl-stand-in-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: answer.content ?? null,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOpenAIStandIn(initial: Script): Promise<OpenAIStandIn> {
  let script = initial;
  const recording = new Recording<RecordedRequest>('openai-stand-in', 'requests');
  const requests = recording.items;

  const server = createServer((req, res) => {
    void (async () => {
      const text = await readBody(req);
      let body: RecordedRequest['body'] = {};
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        return send(res, 400, { error: { message: 'openai-stand-in: body is not JSON', type: 'invalid_request_error' } });
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body,
      };
      recording.push(recorded);
      const index = requests.length - 1;
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        return send(res, 404, { error: { message: `openai-stand-in: no ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      }
      try {
        const answer = await script(recorded, index);
        if (answer.errorStatus) {
          return send(res, answer.errorStatus, { error: { message: 'openai-stand-in: scripted error', type: 'server_error' } });
        }
        send(res, 200, completion(body.model ?? 'stand-in', answer, index));
      } catch (err) {
        send(res, 500, { error: { message: `openai-stand-in script failed: ${String(err)}`, type: 'server_error' } });
      }
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    setScript(next) {
      script = next;
    },
    waitForRequests(n, timeoutMs = 10_000) {
      return recording.waitFor(n, timeoutMs);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
