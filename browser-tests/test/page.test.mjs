// The /app page: security headers and CSP, sign-in with the keyboard, where
// the tokens end up (and where they don't), accessibility, the screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import {
  ROOT, USER, ensureArtifacts, launchBrowser, newContext, openApp, signInWithKeyboard, startServer,
} from './helpers.mjs';

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('GET /app and its files carry the CSP and the security headers', async () => {
  const res = await fetch(`${server.url}/app`);
  assert.equal(res.status, 200);
  const h = res.headers;
  assert.equal(h.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(h.get('content-security-policy'), CSP);
  assert.equal(h.get('x-content-type-options'), 'nosniff');
  assert.equal(h.get('referrer-policy'), 'no-referrer');
  assert.equal(h.get('x-frame-options'), 'DENY');
  assert.equal(h.get('cache-control'), 'no-store');
  assert.match(h.get('permissions-policy') ?? '', /camera=\(\)/);
  assert.equal(h.get('cross-origin-opener-policy'), 'same-origin');
  // No inline script: every <script> has a src.
  const html = await res.text();
  for (const tag of html.match(/<script[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/app\//, tag);
  assert.doesNotMatch(html, /\son[a-z]+=|\sstyle=|<style/i);
  for (const [path, type] of [
    ['/app/app.js', 'text/javascript; charset=utf-8'],
    ['/app/authx-client.js', 'text/javascript; charset=utf-8'],
    ['/app/app.css', 'text/css; charset=utf-8'],
  ]) {
    const r = await fetch(server.url + path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers.get('content-type'), type, path);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    // The binary serves the files it was built with.
    assert.equal(await r.text(), readFileSync(resolve(ROOT, '../crates/authx-server/static', path.slice(5)), 'utf8'), path);
  }
  const slash = await fetch(`${server.url}/app/`, { redirect: 'manual' });
  assert.equal(slash.status, 308);
  assert.equal(slash.headers.get('location'), '/app');
});

test('the CSP refuses an injected inline script', async () => {
  const context = await newContext(browser);
  const { page, seen } = await openApp(context, server.url);
  const violated = await page.evaluate(
    () =>
      new Promise((done) => {
        document.addEventListener('securitypolicyviolation', (e) => done(e.effectiveDirective), { once: true });
        const s = document.createElement('script');
        s.textContent = 'window.__xss = 1';
        document.body.append(s);
        setTimeout(() => done(null), 2000);
      }),
  );
  assert.equal(violated, 'script-src-elem');
  assert.equal(await page.evaluate(() => 'window.__xss' in window && window.__xss), false);
  assert.deepEqual(seen.errors, []);
  await context.close();
});

test('sign-in with the keyboard; HttpOnly refresh cookie, readable CSRF cookie, nothing stored; screenshot', async () => {
  const context = await newContext(browser);
  const { page, seen } = await openApp(context, server.url);
  // The page starts signed out with the username field focused.
  assert.equal(await page.locator('#status').textContent(), 'Signed out');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'username');

  const loginResponse = page.waitForResponse((r) => r.url().endsWith('/login'));
  await signInWithKeyboard(page);
  const accessToken = (await (await loginResponse).json()).access_token;
  assert.match(accessToken, /^eyJ/);
  assert.equal(await page.locator('#status').textContent(), `Signed in as ${USER.username}`);
  // Focus moved to the signed-in heading.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'user-title');
  assert.equal(await page.locator('#user-email').textContent(), USER.email);

  // The refresh cookie is invisible to scripts; the CSRF cookie is visible.
  const documentCookie = await page.evaluate(() => document.cookie);
  assert.match(documentCookie, /(^|; )csrf_refresh_token=[^;]+/);
  assert.doesNotMatch(documentCookie, /refresh_token_cookie/);
  const jar = await context.cookies();
  const refresh = jar.find((c) => c.name === 'refresh_token_cookie');
  const csrf = jar.find((c) => c.name === 'csrf_refresh_token');
  assert.ok(refresh?.value, 'the browser holds the refresh cookie');
  assert.equal(refresh.httpOnly, true);
  assert.equal(refresh.sameSite, 'Lax');
  assert.equal(csrf?.httpOnly, false);

  // Calls work; the result shows.
  await page.getByRole('button', { name: 'POST /protected-action' }).click();
  await page.locator('#api-result', { hasText: 'Action performed successfully' }).waitFor();
  await page.getByRole('button', { name: 'GET /protected' }).click();
  await page.locator('#api-result', { hasText: 'Access granted' }).waitFor();
  assert.equal(await page.locator('#api-status').textContent(), '200 OK');
  // One session, marked as this tab's.
  await page.locator('#sessions-body tr.current').waitFor();
  assert.equal(await page.locator('#sessions-body tr').count(), 1);

  // Nothing in Web Storage, IndexedDB or the Cache API; the token appears
  // nowhere a script could find it: DOM, cookies, globals.
  const stored = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    idb: (await indexedDB.databases()).length,
    caches: (await caches.keys()).length,
  }));
  assert.deepEqual(stored, { local: 0, session: 0, idb: 0, caches: 0 });
  assert.ok(!(await page.content()).includes(accessToken), 'token in the DOM');
  const inGlobals = await page.evaluate((token) => {
    const hits = [];
    for (const key of Object.getOwnPropertyNames(window)) {
      let v;
      try {
        v = window[key];
      } catch {
        continue;
      }
      if (typeof v === 'string' && v.includes(token.slice(0, 40))) hits.push(key);
    }
    return hits;
  }, accessToken);
  assert.deepEqual(inGlobals, []);

  // The countdown runs.
  await page.locator('#ttl', { hasText: /min|s$/ }).waitFor();
  const ttl = await page.locator('#ttl').textContent();
  assert.match(ttl ?? '', /^1[45] min \d\d s$/, `countdown: ${ttl}`);

  await page.mouse.move(0, 0);
  await page.evaluate(() => /** @type {HTMLElement} */ (document.activeElement)?.blur());
  const shot = join(ensureArtifacts(), 'app-signed-in.png');
  await page.screenshot({ path: shot, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    const docs = resolve(ROOT, '../docs/screenshots');
    mkdirSync(docs, { recursive: true });
    copyFileSync(shot, join(docs, 'app-signed-in.png'));
  }

  // A reload loses the in-memory token; the page restores the session
  // with the refresh cookie (one /refresh), still with nothing stored.
  const before = await server.metrics();
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  await page.locator('#status[data-state="in"]').waitFor();
  const afterReload = await server.metrics();
  assert.equal(afterReload.refreshes - before.refreshes, 1);
  assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);

  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.csp, []);
  assert.deepEqual(seen.console, []);
  await context.close();
});

test('a wrong password is reported and focus returns to the password', async () => {
  const context = await newContext(browser);
  const { page } = await openApp(context, server.url);
  await page.getByLabel('Username').fill(USER.username);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#login-error', { hasText: 'Invalid username or password' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
  assert.equal(await page.locator('#status').textContent(), 'Signed out');
  await context.close();
});

test('accessibility: axe-core finds no violations, signed out and signed in', async () => {
  const require = createRequire(import.meta.url);
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const context = await newContext(browser);
  const { page } = await openApp(context, server.url);
  const audit = async () => {
    // evaluate() is not subject to the page's CSP (a <script> tag would be).
    await page.evaluate(axeSource);
    return page.evaluate(async () => {
      // @ts-ignore axe is global now
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
  };
  assert.deepEqual(await audit(), [], 'signed out');
  await signInWithKeyboard(page);
  await page.locator('#sessions-body tr.current').waitFor();
  assert.deepEqual(await audit(), [], 'signed in');
  // Every control is reachable and named: inputs have labels, buttons text.
  const unnamed = await page.evaluate(() =>
    [...document.querySelectorAll('input, button')]
      .filter((el) => !(el instanceof HTMLInputElement ? el.labels?.length : (el.getAttribute('aria-label') || el.textContent?.trim())))
      .map((el) => el.outerHTML),
  );
  assert.deepEqual(unnamed, []);
  await context.close();
});
