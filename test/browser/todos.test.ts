// The todo page in a real browser (Debian's headless Chromium through playwright-core), served by
// the built frontend in front of the built backend on a throwaway PostgreSQL: what a user does,
// end to end, including that each browser gets its own list.
import { suite } from '../support/suite.ts';
import * as assert from 'uvu/assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startPostgres, type Postgres } from '../support/postgres.ts';
import { startService, type Service } from '../support/service.ts';

const test = suite();

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // root in CI; the sandbox needs user namespaces we cannot count on
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
// Upper bound for any single browser wait; a stuck page fails the test instead of hanging it.
const STEP_TIMEOUT_MS = 15_000;
// Set to a folder to keep screenshots of the page for a human to look at (not part of the checks).
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS;

let pg: Postgres | undefined;
let backend: Service | undefined;
let frontend: Service | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

// uvu 0.5.6 loses an error thrown by a before hook (the suite then reports "0 / N" silently and
// exits 0), so the setup's error is kept and fails every test instead.
let setupFailure: unknown;
test.before.each(() => {
  if (setupFailure !== undefined) throw setupFailure;
});

test.before(async () => {
  try {
    await setUp();
  } catch (err) {
    setupFailure = err;
  }
});

async function setUp(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH to a Chromium binary.`);
  }
  pg = await startPostgres();
  backend = await startService({
    name: 'backend',
    appDir: 'apps/backend',
    env: { DATABASE_URL: pg.url, LOG_LEVEL: 'info' },
  });
  await backend.waitForLine(/"msg":"database schema ready"/, STEP_TIMEOUT_MS);
  frontend = await startService({
    name: 'frontend',
    appDir: 'apps/frontend',
    env: { BACKEND_URL: backend.url, BETTER_AUTH_SECRET: randomBytes(48).toString('base64') },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: STEP_TIMEOUT_MS });
}

test.after(async () => {
  // Each step runs even when an earlier one throws, so nothing is left behind.
  const steps = [
    async () => { for (const c of contexts) await c.close(); },
    async () => browser?.close(),
    async () => frontend?.stop(),
    async () => backend?.stop(),
    async () => pg?.destroy(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      console.error('cleanup step failed:', err);
    }
  }
});

async function openPage(): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 900, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  await page.goto(frontend!.url);
  // The first load has finished once either the empty state or a todo is shown.
  await page.locator('#empty:not([hidden]), #todos li').first().waitFor();
  return page;
}

async function titles(page: Page): Promise<string[]> {
  return page.locator('#todos li .title').allTextContents();
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

let first: Page;

test('a new browser starts with an empty list and an HttpOnly session cookie', async () => {
  first = await openPage();
  assert.equal(await titles(first), []);
  assert.ok(await first.locator('#empty').isVisible(), 'the empty-state hint is shown');
  const cookies = await first.context().cookies();
  const session = cookies.find((c) => c.name === 'todo_session');
  assert.ok(session, 'the session cookie is set');
  assert.is(session!.httpOnly, true);
  assert.is(session!.sameSite, 'Lax');
  assert.is(await first.evaluate(() => document.cookie), '', 'page scripts cannot read it');
});

test('adds a todo, completes it, and after a reload it is still there and completed', async () => {
  await first.getByLabel('New todo').fill('Buy oat milk');
  const created = first.waitForResponse((r) => r.url().endsWith('/api/todos') && r.request().method() === 'POST');
  await first.getByRole('button', { name: 'Add' }).click();
  assert.is((await created).status(), 201);
  const item = first.locator('#todos li', { hasText: 'Buy oat milk' });
  await item.waitFor();
  assert.is(await first.getByLabel('New todo').inputValue(), '', 'the input is cleared');

  const completed = first.waitForResponse((r) => /\/api\/todos\/[^/]+\/complete$/.test(r.url()));
  await item.getByRole('checkbox').check();
  assert.is((await completed).status(), 200);
  await first.locator('#todos li.done', { hasText: 'Buy oat milk' }).waitFor();
  await first.getByLabel('New todo').fill('Water the plants');
  await first.getByRole('button', { name: 'Add' }).click();
  await first.locator('#todos li', { hasText: 'Water the plants' }).waitFor();

  await first.reload();
  await first.locator('#todos li', { hasText: 'Water the plants' }).waitFor();
  const reloaded = first.locator('#todos li', { hasText: 'Buy oat milk' });
  assert.ok(await reloaded.getByRole('checkbox').isChecked(), 'still completed after the reload');
  assert.match((await reloaded.getAttribute('class')) ?? '', 'done');
  assert.not.ok(await first.locator('#todos li', { hasText: 'Water the plants' }).getByRole('checkbox').isChecked());
  assert.is(await first.locator('#summary').textContent(), '1 of 2 done');
  await screenshot(first, 'after-reload');
});

test('a second browser context sees its own, empty list, and its todos stay its own', async () => {
  const second = await openPage();
  assert.equal(await titles(second), [], 'none of the first browser\'s todos');
  assert.ok(await second.locator('#empty').isVisible());

  await second.getByLabel('New todo').fill('Second browser only');
  await second.getByRole('button', { name: 'Add' }).click();
  await second.locator('#todos li', { hasText: 'Second browser only' }).waitFor();

  await first.reload();
  await first.locator('#todos li').first().waitFor();
  assert.equal((await titles(first)).sort(), ['Buy oat milk', 'Water the plants']);
});

test('deletes a todo', async () => {
  const deleted = first.waitForResponse((r) => r.request().method() === 'DELETE');
  await first.getByRole('button', { name: 'Delete Water the plants' }).click();
  assert.ok((await deleted).ok());
  await first.locator('#todos li', { hasText: 'Water the plants' }).waitFor({ state: 'detached' });
  await first.reload();
  await first.locator('#todos li').first().waitFor();
  assert.equal(await titles(first), ['Buy oat milk']);
});

test('the chat box posts the message and shows the answer (here: how to enable chat)', async () => {
  // The backend runs without OPENAI_API_KEY, so its real answer is the 503 that says so.
  await first.getByLabel('Chat message').fill('add buy bread');
  const answered = first.waitForResponse((r) => r.url().endsWith('/api/chat'));
  await first.getByRole('button', { name: 'Send' }).click();
  const response = await answered;
  assert.is(response.status(), 503);
  const { error } = (await response.json()) as { error: string };
  await first.locator('#chat-log li.user', { hasText: 'add buy bread' }).waitFor();
  const shown = first.locator('#chat-log li.failed');
  await shown.waitFor();
  assert.is(await shown.textContent(), error, 'the backend\'s message is shown as is');
  assert.match(error, 'OPENAI_API_KEY');
  await screenshot(first, 'chat');
});

test.run();
