// Logging out: this tab, every device, one session from the list. The
// server checks access tokens against its store (--revoke-access-tokens), so
// an ended session's access token stops working at once; without that flag
// it would keep working until it expires (the access lifetime), and the
// other device would be logged out at its first call after that.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  USER, installClient, launchBrowser, newContext, openApp, signInWithKeyboard, startServer,
} from './helpers.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ revokeAccessTokens: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("logout leaves no usable refresh cookie and the next call reports 'logged out'", async () => {
  const context = await newContext(browser);
  const { page, seen } = await openApp(context, server.url);
  await signInWithKeyboard(page);
  const jar = await context.cookies();
  const oldRefresh = jar.find((c) => c.name === 'refresh_token_cookie')?.value;
  const oldCsrf = jar.find((c) => c.name === 'csrf_refresh_token')?.value;
  assert.ok(oldRefresh && oldCsrf);

  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.locator('#status[data-state="out"]').waitFor();
  assert.equal(await page.locator('#login-error').textContent(), 'You logged out.');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');

  // The browser holds no refresh cookie and scripts see no CSRF cookie.
  const after = await context.cookies();
  assert.deepEqual(after.filter((c) => c.name === 'refresh_token_cookie' && c.value), []);
  assert.doesNotMatch(await page.evaluate(() => document.cookie), /csrf_refresh_token=[^;]/);
  // The old cookie, had anything kept it, is dead on the server too.
  const replay = await fetch(`${server.url}/refresh`, {
    method: 'POST',
    headers: { Cookie: `refresh_token_cookie=${oldRefresh}; csrf_refresh_token=${oldCsrf}`, 'X-CSRF-TOKEN': oldCsrf },
  });
  assert.equal(replay.status, 401);

  // The next call through the client reports "logged out".
  await installClient(page);
  const r = await page.evaluate(() => __t.run(() => __t.client.fetch('/protected')));
  assert.deepEqual({ ok: r.ok, name: r.name, message: r.message }, { ok: false, name: 'LoggedOutError', message: 'logged out' });
  // And a reload stays signed out.
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  assert.equal(await page.locator('#status').textContent(), 'Signed out');
  assert.deepEqual(seen.errors, []);
  await context.close();
});

test("client: logout fires one 'logout' event and later calls reject", async () => {
  const context = await newContext(browser);
  const { page } = await openApp(context, server.url);
  await installClient(page);
  const steps = await page.evaluate(async (u) => {
    const { client, run } = __t;
    const out = [];
    out.push(await run(() => client.login(u.username, u.password).then((c) => c.sub)));
    out.push(await run(() => client.json('/protected').then((b) => b.message)));
    out.push(await run(() => client.logout()));
    out.push(await run(() => client.fetch('/protected')));
    out.push(await run(() => client.restore()));
    return out;
  }, USER);
  assert.deepEqual(steps[0], { ok: true, value: USER.username });
  assert.deepEqual(steps[1], { ok: true, value: 'Access granted' });
  assert.equal(steps[2].ok, true);
  assert.equal(steps[3].name, 'LoggedOutError');
  assert.equal(steps[3].message, 'logged out');
  assert.deepEqual(steps[4], { ok: true, value: false });
  assert.deepEqual(await page.evaluate(() => __t.events), [
    { type: 'login', reason: null },
    { type: 'logout', reason: 'logout' },
  ]);
  await context.close();
});

test("after 'log out everywhere' in one context, the other is logged out at its next call", async () => {
  const ctxA = await newContext(browser);
  const ctxB = await newContext(browser);
  const { page: a } = await openApp(ctxA, server.url);
  const { page: b, seen: seenB } = await openApp(ctxB, server.url);
  await signInWithKeyboard(a);
  await signInWithKeyboard(b);
  await b.getByRole('button', { name: 'Reload list' }).click();
  await b.locator('#sessions-body tr').nth(1).waitFor();
  assert.equal(await b.locator('#sessions-body tr').count(), 2);

  await a.getByRole('button', { name: 'Log out everywhere' }).click();
  await a.locator('#status[data-state="out"]').waitFor();
  assert.equal(await a.locator('#login-error').textContent(), 'You logged out everywhere.');
  assert.deepEqual((await ctxA.cookies()).filter((c) => c.name === 'refresh_token_cookie' && c.value), []);

  // B still shows its page; its next call finds the session gone.
  assert.equal(await b.locator('#status').textContent(), `Signed in as ${USER.username}`);
  const m0 = await server.metrics();
  await b.getByRole('button', { name: 'GET /protected' }).click();
  await b.locator('#status[data-state="out"]').waitFor();
  assert.match(await b.locator('#login-error').textContent(), /session ended/);
  await b.locator('#log li', { hasText: 'GET /protected: logged out' }).waitFor();
  const m1 = await server.metrics();
  assert.equal(m1.requests('/protected', '401') - m0.requests('/protected', '401'), 1);
  assert.equal(m1.requests('/refresh', '401') - m0.requests('/refresh', '401'), 1);
  assert.equal(m1.requests('/refresh', '200') - m0.requests('/refresh', '200'), 0);
  assert.deepEqual(seenB.errors, []);
  await ctxA.close();
  await ctxB.close();
});

test('ending another session from the list logs that device out at its next call', async () => {
  const ctxA = await newContext(browser);
  const ctxB = await newContext(browser);
  const { page: a } = await openApp(ctxA, server.url);
  const { page: b } = await openApp(ctxB, server.url);
  await signInWithKeyboard(a);
  await signInWithKeyboard(b);
  await a.getByRole('button', { name: 'Reload list' }).click();
  await a.locator('#sessions-body tr').nth(1).waitFor();
  // End B's session (the row that is not this tab's), with the keyboard.
  const other = a.locator('#sessions-body tr:not(.current) button');
  await other.focus();
  await a.keyboard.press('Enter');
  await a.locator('#log li', { hasText: 'Ended session' }).waitFor();
  await a.locator('#sessions-body tr').nth(1).waitFor({ state: 'detached' });
  assert.equal(await a.locator('#sessions-body tr.current').count(), 1);
  assert.equal(await a.evaluate(() => document.activeElement?.id), 'sessions-title');

  await b.getByRole('button', { name: 'POST /protected-action' }).click();
  await b.locator('#status[data-state="out"]').waitFor();
  // A is still signed in.
  await a.getByRole('button', { name: 'GET /protected' }).click();
  await a.locator('#api-result', { hasText: 'Access granted' }).waitFor();
  await ctxA.close();
  await ctxB.close();
});
