// authx-client.js on its own, on another origin: a page served by a
// separate little server (another port of 127.0.0.1: cross-origin but
// same-site, like app.example.com and api.example.com) talks to authx-server
// started with --cors-origins for that page's origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATIC_DIR, USER, launchBrowser, newContext, startServer } from './helpers.mjs';

/** A static server for the "front-end" origin: a blank page and the client. */
async function frontEnd() {
  const client = readFileSync(join(STATIC_DIR, 'authx-client.js'));
  const server = createServer((req, res) => {
    if (req.url === '/authx-client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(client);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html lang="en"><title>front end</title><h1>front end</h1></html>');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

let app;
let stranger;
let api;
let browser;

before(async () => {
  app = await frontEnd();
  stranger = await frontEnd();
  api = await startServer({ corsOrigins: [app.url] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await api?.stop();
  await app?.close();
  await stranger?.close();
});

test('from an allowed origin: login, calls, refresh with the CSRF header, logout', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${app.url}/`);
  const steps = await page.evaluate(
    async ({ api, u }) => {
      const { AuthClient } = await import('/authx-client.js');
      const client = new AuthClient({ baseUrl: api, refreshAheadSeconds: false });
      const run = async (fn) => {
        try {
          return { ok: true, value: await fn() };
        } catch (e) {
          return { ok: false, name: e.name, message: e.message, status: e.status ?? null };
        }
      };
      return {
        login: await run(() => client.login(u.username, u.password).then((c) => c.sub)),
        csrfVisible: document.cookie.includes('csrf_refresh_token='),
        refreshVisible: document.cookie.includes('refresh_token_cookie'),
        call: await run(() => client.json('/protected').then((b) => b.message)),
        refresh: await run(() => client.refresh().then((c) => c.sub)),
        action: await run(() => client.json('/protected-action', { method: 'POST' }).then((b) => b.message)),
        elsewhere: await run(() => client.fetch('https://elsewhere.invalid/steal')),
        logout: await run(() => client.logout()),
        after: await run(() => client.fetch('/protected')),
      };
    },
    { api: api.url, u: USER },
  );
  assert.deepEqual(steps.login, { ok: true, value: USER.username });
  assert.equal(steps.csrfVisible, true);
  assert.equal(steps.refreshVisible, false);
  assert.deepEqual(steps.call, { ok: true, value: 'Access granted' });
  assert.deepEqual(steps.refresh, { ok: true, value: USER.username });
  assert.deepEqual(steps.action, { ok: true, value: 'Action performed successfully' });
  // The token is never sent to an origin other than the API's.
  assert.equal(steps.elsewhere.name, 'TypeError');
  assert.match(steps.elsewhere.message, /refusing to send the access token/);
  assert.equal(steps.logout.ok, true);
  assert.equal(steps.after.message, 'logged out');
  const m = await api.metrics();
  assert.equal(m.requests('/refresh', '200'), 1);
  await context.close();
});

test('from an origin not in --cors-origins the browser refuses the answers', async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  await page.goto(`${stranger.url}/`);
  const r = await page.evaluate(
    async ({ api, u }) => {
      const { AuthClient } = await import('/authx-client.js');
      const client = new AuthClient({ baseUrl: api });
      try {
        await client.login(u.username, u.password);
        return { ok: true };
      } catch (e) {
        return { ok: false, name: e.name, status: e.status };
      }
    },
    { api: api.url, u: USER },
  );
  assert.deepEqual(r, { ok: false, name: 'AuthError', status: 0 });
  await context.close();
});
