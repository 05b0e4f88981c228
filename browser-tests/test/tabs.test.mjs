// Two tabs of one browser share the refresh cookie. Every /refresh rotates
// it, and the server runs with no grace window: were two tabs to present the
// same refresh token at once, the second would count as reuse and end the
// session. The client serializes refreshes across tabs with a Web Lock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  USER, installClient, launchBrowser, newContext, openApp, signInWithKeyboard, sleep, startServer,
} from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ graceMs: 0 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Two tabs with a test client each; the first logs in, the second follows
 * through the BroadcastChannel. Each /refresh answer is held back 150 ms in
 * the client, so overlapping refreshes would overlap visibly.
 */
async function twoTabs(client = {}) {
  const context = await newContext(browser);
  const a = (await openApp(context, server.url)).page;
  const b = (await openApp(context, server.url)).page;
  const options = { holdRefreshMs: 150, client: { refreshAheadSeconds: false, ...client } };
  await installClient(a, options);
  await installClient(b, options);
  const login = await a.evaluate((u) => __t.run(() => __t.client.login(u.username, u.password)), USER);
  assert.ok(login.ok, JSON.stringify(login));
  await b.waitForFunction(() => __t.client.isAuthenticated);
  return { context, a, b };
}

/** Both tabs call refresh() at the same instant. */
async function refreshBothAtOnce(a, b) {
  const at = Date.now() + 300;
  const go = (page) =>
    page.evaluate(async (at) => {
      await new Promise((r) => setTimeout(r, at - Date.now()));
      const n = __t.refreshes.length;
      const r = await __t.run(() => __t.client.refresh());
      return { ...r, value: undefined, interval: __t.refreshes[n] ?? null };
    }, at);
  return Promise.all([go(a), go(b)]);
}

const overlap = (x, y) => x.start < y.end && y.start < x.end;

test('two tabs refreshing at once take turns and both stay logged in', async () => {
  const { context, a, b } = await twoTabs();
  assert.equal(await a.evaluate(() => __t.client.crossTabLocking), true, 'Web Locks available');
  const m0 = await server.metrics();
  const [ra, rb] = await refreshBothAtOnce(a, b);
  assert.ok(ra.ok && rb.ok, JSON.stringify([ra, rb]));
  assert.ok(!overlap(ra.interval, rb.interval), `refreshes overlapped: ${JSON.stringify([ra.interval, rb.interval])}`);
  const m1 = await server.metrics();
  assert.equal(m1.requests('/refresh', '200') - m0.requests('/refresh', '200'), 2);
  assert.equal(m1.requests('/refresh', '401') - m0.requests('/refresh', '401'), 0);
  assert.equal(m1.reuse - m0.reuse, 0, 'no reuse detected');
  // Both tabs still work.
  for (const page of [a, b]) {
    const r = await page.evaluate(() => __t.run(() => __t.client.json('/protected')));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(await page.evaluate(() => __t.events.filter((e) => e.type === 'logout')), []);
  }
  await context.close();
});

test('control: without the lock the same two refreshes overlap', async (t) => {
  const { context, a, b } = await twoTabs({ crossTabLock: false });
  const m0 = await server.metrics();
  const [ra, rb] = await refreshBothAtOnce(a, b);
  const m1 = await server.metrics();
  t.diagnostic(
    `without the lock: ${JSON.stringify([ra.ok ? 'ok' : ra.reason, rb.ok ? 'ok' : rb.reason])}, ` +
      `${m1.reuse - m0.reuse} reuse detections`,
  );
  assert.ok(ra.interval && rb.interval);
  assert.ok(overlap(ra.interval, rb.interval), 'the lock is what keeps them apart');
  await context.close();
});

test('the page in two tabs: sign in once, both signed in; refresh at once; log out in one, both out', async () => {
  const context = await newContext(browser);
  const { page: a, seen: seenA } = await openApp(context, server.url);
  const { page: b, seen: seenB } = await openApp(context, server.url);
  await signInWithKeyboard(a);
  // The other tab follows the login (BroadcastChannel, then its own refresh).
  await b.locator('#status[data-state="in"]').waitFor();
  assert.equal(await b.locator('#status').textContent(), `Signed in as ${USER.username}`);

  const m0 = await server.metrics();
  await Promise.all([
    a.getByRole('button', { name: 'Refresh now' }).click(),
    b.getByRole('button', { name: 'Refresh now' }).click(),
  ]);
  await a.locator('#token-refreshes', { hasText: '1' }).waitFor();
  await b.locator('#token-refreshes', { hasText: '1' }).waitFor();
  const m1 = await server.metrics();
  assert.equal(m1.refreshes - m0.refreshes, 2);
  assert.equal(m1.reuse - m0.reuse, 0);
  for (const page of [a, b]) {
    await page.getByRole('button', { name: 'GET /protected' }).click();
    await page.locator('#api-result', { hasText: 'Access granted' }).waitFor();
    assert.equal(await page.locator('#status').textContent(), `Signed in as ${USER.username}`);
  }

  await a.getByRole('button', { name: 'Log out', exact: true }).click();
  await a.locator('#status[data-state="out"]').waitFor();
  await b.locator('#status[data-state="out"]').waitFor();
  assert.equal(await b.locator('#login-error').textContent(), 'You logged out in another tab.');
  for (const seen of [seenA, seenB]) {
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.csp, []);
  }
  await sleep(10);
  await context.close();
});
