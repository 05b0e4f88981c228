// Refresh: an expired access token is replaced transparently; concurrent
// 401s share one /refresh (counted on the server); a refresh that fails is
// reported once, never retried in a loop. The server runs with 2-second
// access tokens and no grace window, so a second rotation of the same
// refresh token would count as reuse and end the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  USER, installClient, launchBrowser, newContext, openApp, signInWithKeyboard, sleep, startServer,
} from './helpers.mjs';

const ACCESS_TTL = 2;
let server;
let browser;

before(async () => {
  server = await startServer({ accessTtl: ACCESS_TTL, graceMs: 0 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Waits until the page's test client's access token has expired. */
async function untilExpired(page) {
  const expiresAt = await page.evaluate(() => window.__t.client.expiresAt);
  assert.ok(expiresAt, 'signed in');
  await sleep(Math.max(0, expiresAt - Date.now()) + 300);
}

async function signedInClient(options = {}) {
  const context = await newContext(browser);
  const { page, seen } = await openApp(context, server.url);
  await installClient(page, options);
  const login = await page.evaluate((u) => __t.run(() => __t.client.login(u.username, u.password)), USER);
  assert.ok(login.ok, JSON.stringify(login));
  return { context, page, seen };
}

test('an expired access token is refreshed after the 401 and the call succeeds', async () => {
  // Proactive refresh off: the token really expires and the server says 401.
  const { context, page } = await signedInClient({ client: { refreshAheadSeconds: false } });
  await untilExpired(page);
  const m0 = await server.metrics();
  const r = await page.evaluate(() => __t.run(() => __t.client.json('/protected')));
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.message, 'Access granted');
  assert.equal(r.value.username, USER.username);
  const m1 = await server.metrics();
  assert.equal(m1.requests('/protected', '401') - m0.requests('/protected', '401'), 1, 'first try: 401');
  assert.equal(m1.requests('/protected', '200') - m0.requests('/protected', '200'), 1, 'retry: 200');
  assert.equal(m1.requests('/refresh') - m0.requests('/refresh'), 1, 'one /refresh');
  assert.equal(m1.refreshes - m0.refreshes, 1);
  const protectedCalls = await page.evaluate(() => __t.calls.filter((c) => c.url === '/protected').map((c) => c.status));
  assert.deepEqual(protectedCalls, [401, 200]);
  assert.deepEqual(await page.evaluate(() => __t.events.map((e) => e.type)), ['login', 'refresh']);
  await context.close();
});

test('the page refreshes shortly before expiry: calls after the first lifetime never see a 401', async () => {
  const context = await newContext(browser);
  const { page, seen } = await openApp(context, server.url);
  await signInWithKeyboard(page);
  const m0 = await server.metrics();
  await sleep(ACCESS_TTL * 1000 * 2 + 500); // two lifetimes
  await page.getByRole('button', { name: 'GET /protected' }).click();
  await page.locator('#api-result', { hasText: 'Access granted' }).waitFor();
  const m1 = await server.metrics();
  assert.equal(m1.requests('/protected', '401') - m0.requests('/protected', '401'), 0);
  assert.ok(m1.refreshes - m0.refreshes >= 2, `proactive refreshes: ${m1.refreshes - m0.refreshes}`);
  assert.equal(m1.reuse, 0);
  assert.ok(Number(await page.locator('#token-refreshes').textContent()) >= 2);
  assert.equal(await page.locator('#status').textContent(), `Signed in as ${USER.username}`);
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.console, []);
  await context.close();
});

test('five simultaneous calls after expiry cause exactly one /refresh', async () => {
  const { context, page } = await signedInClient({ client: { refreshAheadSeconds: false } });
  await untilExpired(page);
  const m0 = await server.metrics();
  const results = await page.evaluate(() =>
    Promise.all(
      Array.from({ length: 5 }, () =>
        __t.run(async () => {
          const res = await __t.client.fetch('/protected');
          return res.status;
        }),
      ),
    ),
  );
  assert.deepEqual(results, Array(5).fill({ ok: true, value: 200 }));
  const m1 = await server.metrics();
  // All five went out with the expired token and got 401 ...
  assert.equal(m1.requests('/protected', '401') - m0.requests('/protected', '401'), 5);
  // ... and shared one refresh.
  assert.equal(m1.requests('/refresh') - m0.requests('/refresh'), 1, 'requests to /refresh');
  assert.equal(m1.refreshes - m0.refreshes, 1, 'authx_refreshes_total');
  assert.equal(m1.requests('/protected', '200') - m0.requests('/protected', '200'), 5);
  assert.equal(m1.reuse - m0.reuse, 0);
  await context.close();
});

test('five simultaneous calls with no token in memory (a fresh page) share one /refresh', async () => {
  const { context, page } = await signedInClient({ client: { refreshAheadSeconds: false } });
  // A second client in the same page: cookie present, nothing in memory,
  // as after a reload.
  await page.evaluate(async () => {
    const { AuthClient } = await import('/app/authx-client.js');
    window.__fresh = new AuthClient({ channelName: false });
  });
  const m0 = await server.metrics();
  const statuses = await page.evaluate(() =>
    Promise.all(Array.from({ length: 5 }, () => window.__fresh.fetch('/protected').then((r) => r.status))),
  );
  assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
  const m1 = await server.metrics();
  assert.equal(m1.requests('/refresh') - m0.requests('/refresh'), 1);
  assert.equal(m1.requests('/protected', '401') - m0.requests('/protected', '401'), 0);
  await context.close();
});

test('a refresh that fails is reported once as logged out, never retried in a loop', async () => {
  const { context, page } = await signedInClient({ client: { refreshAheadSeconds: false } });
  // End every session of the user from another device.
  const other = await newContext(browser);
  const { page: otherPage } = await openApp(other, server.url);
  await signInWithKeyboard(otherPage);
  await otherPage.getByRole('button', { name: 'Log out everywhere' }).click();
  await otherPage.locator('#status[data-state="out"]').waitFor();

  await untilExpired(page);
  const m0 = await server.metrics();
  const r = await page.evaluate(() => __t.run(() => __t.client.fetch('/protected')));
  assert.equal(r.ok, false);
  assert.equal(r.name, 'LoggedOutError');
  assert.equal(r.message, 'logged out');
  assert.equal(r.reason, 'session-ended');
  const m1 = await server.metrics();
  assert.equal(m1.requests('/protected') - m0.requests('/protected'), 1, 'one call, no retry');
  assert.equal(m1.requests('/refresh', '401') - m0.requests('/refresh', '401'), 1, 'one failed refresh');
  assert.equal(m1.requests('/refresh') - m0.requests('/refresh'), 1);
  // The `logout` event fired once.
  assert.deepEqual(await page.evaluate(() => __t.events.filter((e) => e.type === 'logout')), [
    { type: 'logout', reason: 'session-ended' },
  ]);
  // Later calls report it without asking the server again.
  const again = await page.evaluate(() => __t.run(() => __t.client.fetch('/protected')));
  assert.equal(again.name, 'LoggedOutError');
  const m2 = await server.metrics();
  assert.equal(m2.requests('/refresh') - m1.requests('/refresh'), 0);
  assert.equal(m2.requests('/protected') - m1.requests('/protected'), 0);
  await other.close();
  await context.close();
});

test("control: the seed's client, same five calls, refreshes once per 401", async (t) => {
  const context = await newContext(browser);
  const { page } = await openApp(context, server.url);
  const m0 = await server.metrics();
  // The seed's client-side code, with its recursion capped at 3 so the test
  // ends (the original recurses until the stack or the server gives up).
  const outcome = await page.evaluate(async (u) => {
    let accessToken = null;
    const getCsrfToken = () => document.cookie.match(/(?:^|; )csrf_refresh_token=([^;]*)/)?.[1] ?? '';
    async function login(username, password) {
      const response = await fetch('/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
        credentials: 'include',
      });
      accessToken = (await response.json()).access_token;
    }
    async function refreshToken() {
      const response = await fetch('/refresh', {
        method: 'POST',
        credentials: 'include',
        headers: { 'X-CSRF-TOKEN': getCsrfToken() },
      });
      const data = await response.json();
      accessToken = data.access_token;
    }
    async function fetchProtectedData(depth = 0) {
      const response = await fetch('/protected', { headers: { Authorization: `Bearer ${accessToken}` } });
      if (response.status === 401) {
        if (depth >= 3) return 'gave up';
        await refreshToken();
        return fetchProtectedData(depth + 1);
      }
      return response.status;
    }
    await login(u.username, u.password);
    await new Promise((r) => setTimeout(r, 2300));
    return Promise.all(Array.from({ length: 5 }, () => fetchProtectedData()));
  }, USER);
  const m1 = await server.metrics();
  const refreshes = m1.requests('/refresh') - m0.requests('/refresh');
  t.diagnostic(`seed client: results ${JSON.stringify(outcome)}, ${refreshes} requests to /refresh, ` +
    `${m1.reuse - m0.reuse} reuse detections`);
  assert.ok(refreshes >= 5, `the seed's client refreshed ${refreshes} times for five 401s`);
  await context.close();
});
