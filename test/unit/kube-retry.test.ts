// Transient API faults (lib/kube/retry.ts): which errors are waited out, how long the pauses
// are, and the sentence when the API server stays away past the deadline. The real API server
// going away and coming back is the integration suite's (release-up.test.ts).
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { ApiUnavailable, classifyFault, retryPause, withRetry } from '../../lib/kube/retry.ts';
import { unreachableError } from '../../lib/kube/client.ts';

const test = suite('kube: retry of transient API faults');

// The shapes client-node produces: an ApiException with an HTTP code, or fetch's TypeError with the socket error as cause.
const http = (code: number, headers: Record<string, string> = {}) => Object.assign(new Error(`HTTP-Code: ${code}`), { code, headers });
const socket = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

test('connection refused/reset, 429 and 5xx are transient; 4xx and unknown errors are not', () => {
  for (const err of [socket('ECONNREFUSED'), socket('ECONNRESET'), socket('UND_ERR_SOCKET'), http(429), http(500), http(502), http(503), http(504)]) {
    assert.ok(classifyFault(err).transient, classifyFault(err).what);
  }
  for (const err of [http(400), http(403), http(404), http(409), http(422), new Error('bad input')]) {
    assert.not.ok(classifyFault(err).transient, classifyFault(err).what);
  }
  assert.is(classifyFault(socket('ECONNREFUSED')).what, 'connection refused');
  // Our own messages keep the API's error as their cause; a server shutting down says so in words.
  assert.ok(classifyFault(new Error('Listing Deployment objects failed: x', { cause: http(503) })).transient);
  assert.not.ok(classifyFault(new Error('Listing failed', { cause: http(403) })).transient);
  assert.ok(classifyFault(new Error('Listing Deployment objects in namespace todo failed: apiserver is shutting down')).transient);
  // A retry that gave up at its deadline is not retried again by an outer one, though it wraps a 503.
  assert.not.ok(classifyFault(new ApiUnavailable('The API server did not answer', { cause: http(503) })).transient);
  // What lib/kube turns a socket error into keeps it readable.
  assert.ok(classifyFault(unreachableError({ server: 'https://x', context: 'c' }, 'ECONNRESET')).transient);
  assert.is(classifyFault(http(429, { 'retry-after': '3' })).retryAfterSeconds, 3);
});

test('pauses double from 200 ms to at most 5 s; Retry-After is honoured (up to 30 s)', () => {
  assert.equal([0, 1, 2, 3, 4, 5, 10].map((n) => retryPause(n)), [200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.is(retryPause(0, 2), 2000);
  assert.is(retryPause(0, 120), 30_000);
});

test('a call that fails transiently, then answers, returns the answer; each retry is reported', async () => {
  let calls = 0;
  const retries: string[] = [];
  const value = await withRetry('listing pods', async () => {
    calls++;
    if (calls < 3) throw socket('ECONNREFUSED');
    return 'ok';
  }, { deadline: Date.now() + 10_000, onRetry: (fault, attempt, pause) => retries.push(`${fault.what} ${attempt} ${pause}`) });
  assert.is(value, 'ok');
  assert.equal(retries, ['connection refused 0 200', 'connection refused 1 400']);
});

test('a fault that is not transient is thrown at once, unchanged', async () => {
  let calls = 0;
  const err = await withRetry('applying', async () => {
    calls++;
    throw http(422);
  }, { deadline: Date.now() + 10_000 }).catch((e) => e);
  assert.is(calls, 1);
  assert.is(err.code, 422);
});

test('an API server that stays away past the deadline: one sentence with the server, how long and the last error', async () => {
  const err = await withRetry('to list Deployments', async () => {
    throw socket('ECONNREFUSED');
  }, { deadline: Date.now() + 700, server: 'https://127.0.0.1:6443' }).catch((e) => e);
  assert.instance(err, ApiUnavailable);
  assert.match(err.message, /^The API server at https:\/\/127\.0\.0\.1:6443 did not answer to list Deployments for \d+ s \(last: connection refused\), until the deadline\./);
  assert.match(err.message, /Fix: check that the cluster runs/);
  assert.is(err.exitCode, 1);
});

test('an abort ends the waiting at once', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const started = Date.now();
  const err = await withRetry('x', async () => {
    throw socket('ECONNREFUSED');
  }, { deadline: Date.now() + 60_000, signal: controller.signal }).catch((e) => e);
  assert.ok(Date.now() - started < 5_000, 'not waited until the deadline');
  assert.is(classifyFault(err).what, 'connection refused');
});

test.run();
