// The checks of .github/workflows/smoke.yml, from the host: the frontend page over HTTP, a todo
// created through the frontend's API (with the cookies the frontend sets, as curl's jar keeps
// them), and an MCP tool call over Streamable HTTP (JSON-RPC over POST) that lists it.

export interface Answer {
  status: number;
  type: string;
  body: string;
}

/** A fetch that keeps cookies between requests, like `curl -b jar -c jar`. */
export function cookieFetch(): (url: string, init?: RequestInit) => Promise<Answer> {
  const jar = new Map<string, string>();
  return async (url, init = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(20_000) });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq > 0) jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };
}

/** One JSON-RPC call to an MCP server's /mcp endpoint; returns the raw body (JSON or an event stream). */
export async function mcpCall(base: string, id: number, method: string, params: Record<string, unknown>, session?: string): Promise<Answer & { session?: string }> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-06-18',
  };
  if (session) headers['mcp-session-id'] = session;
  const res = await fetch(new URL('/mcp', base), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params }), signal: AbortSignal.timeout(20_000) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text(), session: res.headers.get('mcp-session-id') ?? session };
}
