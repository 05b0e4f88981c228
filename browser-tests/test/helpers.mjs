// Shared helpers: start authx-server on loopback, read its metrics, launch
// Debian's Chromium through playwright-core, drive the page and the client.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = join(ROOT, 'artifacts');
export const STATIC_DIR = resolve(ROOT, '../crates/authx-server/static');

/** The demo users the server creates in development mode. */
export const USER = { username: 'user1', password: 'password1', email: 'user1@example.com' };
export const USER2 = { username: 'user2', password: 'password2' };

const SECRET = 'browser-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts authx-server (AUTHX_SERVER_BIN) on 127.0.0.1 with a port the OS
 * picks, a fresh database, no login rate limits and a cheap argon2.
 * @param {{ accessTtl?: number, graceMs?: number, revokeAccessTokens?: boolean,
 *   corsOrigins?: string[], args?: string[] }} [o]
 */
export async function startServer(o = {}) {
  const bin = process.env.AUTHX_SERVER_BIN;
  if (!bin) throw new Error('AUTHX_SERVER_BIN is not set (path of the authx-server binary)');
  if (!existsSync(bin)) throw new Error(`AUTHX_SERVER_BIN: ${bin} does not exist (cargo build -p authx-server)`);
  const dir = mkdtempSync(join(tmpdir(), 'authx-browser-'));
  const args = [
    '--bind', '127.0.0.1:0',
    '--database', join(dir, 'authx.db'),
    '--login-rate-per-ip', '0',
    '--login-rate-per-user', '0',
    '--argon2-memory-kib', '1024',
    '--argon2-iterations', '1',
  ];
  if (o.accessTtl !== undefined) args.push('--access-ttl', String(o.accessTtl));
  if (o.graceMs !== undefined) args.push('--refresh-grace-ms', String(o.graceMs));
  if (o.revokeAccessTokens) args.push('--revoke-access-tokens', 'true');
  if (o.corsOrigins?.length) args.push('--cors-origins', o.corsOrigins.join(','));
  args.push(...(o.args ?? []));
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, JWT_SECRET_KEY: SECRET, RUST_LOG: 'warn' };
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = await new Promise((resolvePort, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 30 s\n${stderr}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/([^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePort(`http://${m[1]}`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening\n${stderr}`));
    });
  });
  return {
    url,
    get stderr() {
      return stderr;
    },
    metrics: () => metrics(url),
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r(undefined);
          }, 5000);
          child.once('exit', () => {
            clearTimeout(t);
            r(undefined);
          });
        });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The server's counters, from GET /metrics (Prometheus text format).
 * `requests(route, status?)` sums `authx_request_duration_seconds_count`.
 * @param {string} url
 */
export async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const counts = [];
  for (const m of text.matchAll(/^authx_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    counts.push({ ...labels, count: Number(m[2]) });
  }
  return {
    refreshes: value('authx_refreshes_total'),
    reuse: value('authx_refresh_reuse_detections_total'),
    /** @param {string} route @param {string} [status] */
    requests: (route, status) =>
      counts.filter((c) => c.route === route && (status === undefined || c.status === status)).reduce((a, c) => a + c.count, 0),
    text,
  };
}

/** Debian's Chromium, headless, with the flags this machine needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A browser context (a separate cookie jar: "another device"). */
export async function newContext(browser) {
  return browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', locale: 'en-GB', timezoneId: 'UTC' });
}

/**
 * Collects page errors, console errors and CSP violations of a page.
 * @param {import('playwright-core').Page} page
 */
export function watch(page) {
  const seen = { errors: [], console: [], csp: [] };
  page.on('pageerror', (e) => seen.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.console.push(m.text());
    if (/Content Security Policy/i.test(m.text())) seen.csp.push(m.text());
  });
  return seen;
}

/**
 * Opens /app and waits until the page has decided whether it is signed in.
 * @param {import('playwright-core').BrowserContext} context
 * @param {string} url
 */
export async function openApp(context, url) {
  const page = await context.newPage();
  const seen = watch(page);
  await page.goto(`${url}/app`);
  await page.waitForSelector('html[data-ready="true"]');
  return { page, seen };
}

/**
 * Signs in through the form with the keyboard only.
 * @param {import('playwright-core').Page} page
 */
export async function signInWithKeyboard(page, user = USER) {
  await page.locator('#username').focus();
  await page.keyboard.type(user.username);
  await page.keyboard.press('Tab');
  await page.keyboard.type(user.password);
  await page.keyboard.press('Enter');
  await page.locator('#status[data-state="in"]').waitFor();
}

/**
 * Installs a standalone client in the page as `window.__t`, on its own
 * BroadcastChannel so the page's own client is not involved. Its fetch is
 * wrapped to record every /refresh (start, end, status), and can hold the
 * /refresh answer back for `holdRefreshMs` to widen any race.
 * @param {import('playwright-core').Page} page
 * @param {{ client?: Record<string, unknown>, holdRefreshMs?: number }} [o]
 */
export async function installClient(page, o = {}) {
  await page.evaluate(async (o) => {
    const { AuthClient } = await import('/app/authx-client.js');
    const events = [];
    const refreshes = [];
    const calls = [];
    const realFetch = window.fetch.bind(window);
    const client = new AuthClient({
      channelName: 'authx-test',
      ...o.client,
      fetch: async (input, init) => {
        const url = typeof input === 'string' ? input : input.url;
        const start = Date.now();
        const res = await realFetch(input, init);
        if (url.endsWith('/refresh')) {
          if (o.holdRefreshMs) await new Promise((r) => setTimeout(r, o.holdRefreshMs));
          refreshes.push({ start, end: Date.now(), status: res.status });
        } else {
          calls.push({ url: new URL(url).pathname, status: res.status });
        }
        return res;
      },
    });
    for (const type of ['login', 'refresh', 'logout']) {
      client.addEventListener(type, (e) => events.push({ type, reason: e.detail?.reason ?? null }));
    }
    // Runs a client call and reports its outcome as plain data.
    const run = async (fn) => {
      try {
        const value = await fn();
        return { ok: true, value };
      } catch (e) {
        return { ok: false, name: e.name, message: e.message, reason: e.reason ?? null, status: e.status ?? null };
      }
    };
    window.__t = { client, events, refreshes, calls, run };
  }, o);
}

export function ensureArtifacts() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}
