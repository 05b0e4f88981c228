// authx-client.js: the browser side of the dual-token-location pattern.
//
// - The access token lives in this module's memory only: never in
//   localStorage, sessionStorage, IndexedDB or a cookie, and never in a
//   property another script can read (private class fields).
// - The refresh token is an HttpOnly cookie the browser sends to /refresh;
//   the CSRF header is copied from the readable `csrf_refresh_token` cookie.
// - A call that gets 401 refreshes once and retries once; it never loops.
// - Refreshes are single-flight inside a tab (concurrent 401s share one
//   /refresh) and serialized across tabs with the Web Locks API, so two tabs
//   never present the same refresh token at once (every /refresh rotates it,
//   and a replayed, retired token revokes the session).
// - The token is refreshed shortly before it expires while the tab is
//   visible; a hidden tab refreshes on its next call instead.
// - Logging out (here, in another tab, or because the session ended) fires a
//   `logout` event; calls made while logged out reject with LoggedOutError.
//
// No dependencies, no build step: `import { AuthClient } from
// '/app/authx-client.js'`. Types are JSDoc (checked with `tsc --checkJs`).
//
// Without Web Locks (old browsers, or pages on plain http:// other than
// localhost, which are not secure contexts) refreshes are still single-flight
// inside each tab, but tabs are not serialized: the server's grace window
// (--refresh-grace-ms, 10 s by default) then absorbs two tabs presenting the
// same token at once. BroadcastChannel still spreads login and logout.

/**
 * @typedef {object} AuthClientOptions
 * @property {string} [baseUrl] Origin (and optional path prefix) of the authx
 *   server, e.g. `https://api.example.com`. Default: this page's origin.
 * @property {string} [csrfCookieName] Cookie holding the refresh CSRF value
 *   (default `csrf_refresh_token`).
 * @property {string} [csrfHeaderName] Header the server expects it in
 *   (default `X-CSRF-TOKEN`).
 * @property {() => (string | null)} [getCsrfToken] Reads the CSRF value
 *   (default: from `document.cookie`).
 * @property {number | false} [refreshAheadSeconds] Refresh this long before
 *   the access token expires (capped at a quarter of its lifetime); `false`
 *   turns proactive refresh off, so an expired token is only replaced after
 *   a 401. Default 30.
 * @property {boolean} [crossTabLock] Serialize refreshes across tabs with Web
 *   Locks when available (default true).
 * @property {string} [lockName] Web Lock name (default `authx-refresh`).
 * @property {string | false} [channelName] BroadcastChannel that spreads
 *   login and logout to the other tabs; `false` turns it off (default `authx`).
 * @property {boolean} [followOtherTabs] When another tab logs in, take over
 *   its session with a refresh (default true).
 * @property {number} [timeoutMs] Time limit of each auth request and of
 *   waiting for the cross-tab lock (default 15000).
 * @property {AuthPaths} [paths] Endpoint paths, relative to `baseUrl`.
 * @property {typeof fetch} [fetch] The fetch to use (default: the global one).
 */

/**
 * @typedef {object} AuthPaths
 * @property {string} [login] default `/login`
 * @property {string} [refresh] default `/refresh`
 * @property {string} [logout] default `/logout`
 * @property {string} [logoutAll] default `/logout-all`
 */

/**
 * Public claims of the current access token (decoded, not verified: the
 * server verifies; this is for display and scheduling only).
 * @typedef {{ sub: string, exp: number, iat: number, jti?: string,
 *   email?: string, sid?: string, [claim: string]: unknown }} AccessClaims
 */

/**
 * Why the client is logged out:
 * - `logout` / `logout-all`: this tab asked;
 * - `other-tab`: another tab of this browser logged out;
 * - `session-ended`: the server refused the refresh token (expired, revoked,
 *   ended from another device, replayed);
 * - `no-session`: there is no refresh cookie (never signed in, or cleared).
 * @typedef {'logout' | 'logout-all' | 'other-tab' | 'session-ended' | 'no-session'} LogoutReason
 */

/**
 * @typedef {object} AuthEventMap
 * @property {CustomEvent<{ claims: AccessClaims, expiresAt: number }>} login
 *   A session started in this tab (login, restore, or another tab's login).
 * @property {CustomEvent<{ claims: AccessClaims, expiresAt: number }>} refresh
 *   The access token was replaced.
 * @property {CustomEvent<{ reason: LogoutReason, detail?: string }>} logout
 *   The session is gone; the token in memory was dropped.
 */

/** An auth request failed: `status` is the HTTP status (0: no response). */
export class AuthError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   * @param {unknown} [body]
   */
  constructor(message, status, body) {
    super(message);
    this.name = 'AuthError';
    /** @type {number} */
    this.status = status;
    /** @type {unknown} */
    this.body = body;
  }
}

/** There is no session: sign in again. `reason` says why. */
export class LoggedOutError extends AuthError {
  /**
   * @param {LogoutReason} reason
   * @param {string} [detail]
   */
  constructor(reason, detail) {
    super('logged out', 401);
    this.name = 'LoggedOutError';
    /** @type {LogoutReason} */
    this.reason = reason;
    /** @type {string | undefined} */
    this.detail = detail;
  }
}

const DEFAULT_PATHS = /** @type {Required<AuthPaths>} */ ({
  login: '/login',
  refresh: '/refresh',
  logout: '/logout',
  logoutAll: '/logout-all',
});

/**
 * Reads one cookie visible to this document.
 * @param {string} name
 * @returns {string | null}
 */
export function readCookie(name) {
  if (typeof document === 'undefined' || !document.cookie) return null;
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      if (!value) return null;
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/**
 * Decodes a JWT's payload without verifying it.
 * @param {string} token
 * @returns {AccessClaims | null}
 */
function decodeClaims(token) {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}

/**
 * @param {number} ms
 * @returns {AbortSignal | undefined}
 */
function timeoutSignal(ms) {
  return typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal
    ? AbortSignal.timeout(ms)
    : undefined;
}

/**
 * @param {Response} res
 * @returns {Promise<unknown>}
 */
async function readBody(res) {
  const text = await res.text().catch(() => '');
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The `detail` of an error body, as text.
 * @param {unknown} body
 * @param {string} fallback
 */
function detailOf(body, fallback) {
  if (body && typeof body === 'object' && 'detail' in body) {
    const d = /** @type {{ detail: unknown }} */ (body).detail;
    if (typeof d === 'string') return d;
    if (Array.isArray(d) && d[0] && typeof d[0].msg === 'string') return d[0].msg;
  }
  return fallback;
}

/**
 * The client. One per tab (or per API origin).
 *
 * ```js
 * const auth = new AuthClient();
 * auth.addEventListener('logout', (e) => showSignIn(e.detail.reason));
 * await auth.restore();                      // after a reload: silent refresh
 * await auth.login('user1', 'password1');
 * const res = await auth.fetch('/protected'); // Bearer added, 401 handled
 * ```
 */
export class AuthClient extends EventTarget {
  /** @type {string | null} */
  #token = null;
  /** @type {AccessClaims | null} */
  #claims = null;
  /** Local clock time the token expires (ms since epoch). */
  #expiresAt = 0;
  /** Local clock time from which the token counts as stale. */
  #staleAt = Infinity;
  /** @type {Promise<AccessClaims> | null} */
  #inflight = null;
  /** Bumped by every login and logout: a refresh started before one of
   * them must not resurrect the old session. */
  #epoch = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #refreshWhenVisible = false;
  /** The CSRF value of a refresh the server refused: the cookies that
   * came with it are dead, asking again with them would only fail again. */
  /** @type {string | null} */
  #deadCsrf = null;
  /** @type {BroadcastChannel | null} */
  #channel = null;
  #tabId = Math.random().toString(36).slice(2);
  #base;
  #origin;
  #paths;
  #csrfCookieName;
  #csrfHeaderName;
  #getCsrf;
  /** @type {number | false} */
  #ahead;
  #useLock;
  #lockName;
  #followOtherTabs;
  #timeoutMs;
  /** @type {typeof fetch} */
  #fetch;
  #onVisibility = () => this.#visibilityChanged();

  /** @param {AuthClientOptions} [options] */
  constructor(options = {}) {
    super();
    const here = typeof location !== 'undefined' ? location.href : undefined;
    const base = new URL(options.baseUrl ?? '/', here);
    this.#origin = base.origin;
    this.#base = base.href.replace(/\/+$/, '');
    this.#paths = { ...DEFAULT_PATHS, ...options.paths };
    this.#csrfCookieName = options.csrfCookieName ?? 'csrf_refresh_token';
    this.#csrfHeaderName = options.csrfHeaderName ?? 'X-CSRF-TOKEN';
    this.#getCsrf = options.getCsrfToken ?? (() => readCookie(this.#csrfCookieName));
    this.#ahead = options.refreshAheadSeconds ?? 30;
    this.#useLock = options.crossTabLock ?? true;
    this.#lockName = options.lockName ?? 'authx-refresh';
    this.#followOtherTabs = options.followOtherTabs ?? true;
    this.#timeoutMs = options.timeoutMs ?? 15000;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    const channel = options.channelName ?? 'authx';
    if (channel !== false && typeof BroadcastChannel !== 'undefined') {
      this.#channel = new BroadcastChannel(channel);
      this.#channel.onmessage = (e) => this.#onMessage(e.data);
    }
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this.#onVisibility);
    }
  }

  /** Whether an access token is held (it may have expired; calls refresh). */
  get isAuthenticated() {
    return this.#token !== null;
  }

  /**
   * Claims of the current access token, or null when logged out.
   * @returns {AccessClaims | null}
   */
  get claims() {
    return this.#claims ? { ...this.#claims } : null;
  }

  /** When the access token expires, in this machine's clock (ms), or null. */
  get expiresAt() {
    return this.#token ? this.#expiresAt : null;
  }

  /** Whether refreshes are serialized across tabs (Web Locks present). */
  get crossTabLocking() {
    return this.#useLock && typeof navigator !== 'undefined' && !!navigator.locks;
  }

  /**
   * Typed `addEventListener` for this client's events.
   * @template {keyof AuthEventMap} K
   * @param {K} type
   * @param {(event: AuthEventMap[K]) => void} listener
   * @param {AddEventListenerOptions} [options]
   * @returns {() => void} removes the listener
   */
  on(type, listener, options) {
    const l = /** @type {EventListener} */ (/** @type {unknown} */ (listener));
    this.addEventListener(type, l, options);
    return () => this.removeEventListener(type, l, options);
  }

  /**
   * Signs in. Resolves with the token's claims; rejects with AuthError
   * (401 bad credentials, 429 rate limited, 422 bad input, 0 no network).
   * @param {string} username
   * @param {string} password
   * @returns {Promise<AccessClaims>}
   */
  async login(username, password) {
    const epoch = ++this.#epoch;
    const res = await this.#withLock(() =>
      this.#auth(this.#paths.login, {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
      }),
    );
    const body = await readBody(res);
    if (!res.ok) {
      throw new AuthError(detailOf(body, `Login failed (${res.status})`), res.status, body);
    }
    if (epoch !== this.#epoch) throw new AuthError('Login superseded', 0);
    const claims = this.#accept(body, 'login');
    this.#post({ type: 'login' });
    return claims;
  }

  /**
   * Restores the session after a reload (the token was in memory only):
   * refreshes when a refresh cookie is present. Resolves true when signed
   * in, false when there is no session; rejects on network or server errors.
   * @returns {Promise<boolean>}
   */
  async restore() {
    if (this.#token) return true;
    const csrf = this.#getCsrf();
    if (!csrf || csrf === this.#deadCsrf) return false;
    try {
      await this.refresh();
      return true;
    } catch (e) {
      if (e instanceof LoggedOutError) return false;
      throw e;
    }
  }

  /**
   * Gets a new access token now (rotating the refresh cookie). Concurrent
   * callers share one request. Rejects with LoggedOutError when the session
   * is gone, AuthError otherwise (network, 5xx: the session is kept).
   * @returns {Promise<AccessClaims>} the new token's claims
   */
  refresh() {
    if (!this.#inflight) {
      const p = this.#refreshOnce().finally(() => {
        if (this.#inflight === p) this.#inflight = null;
      });
      this.#inflight = p;
    }
    return this.#inflight;
  }

  /**
   * `fetch` for the API: adds `Authorization: Bearer`, sends credentials,
   * refreshes first when the token is stale, and on a 401 refreshes once
   * and retries once. Rejects with LoggedOutError when there is no session.
   * Relative URLs resolve against `baseUrl`; the token is never sent to
   * another origin (TypeError).
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  async fetch(input, init) {
    const template = this.#request(input, init);
    if (!this.#token) {
      const csrf = this.#getCsrf();
      if (!csrf) throw new LoggedOutError('no-session');
      if (csrf === this.#deadCsrf) throw new LoggedOutError('session-ended');
    }
    if (!this.#token || this.#isStale()) await this.#refreshOrThrow();
    const used = /** @type {string} */ (this.#token);
    const res = await this.#fetch(this.#authorized(template, used));
    if (res.status !== 401) return res;
    // Someone refreshed while this call was out: retry with that token.
    // Otherwise refresh (joining any refresh already running) and retry.
    if (this.#token === used) await this.#refreshOrThrow();
    if (!this.#token) throw new LoggedOutError('session-ended');
    // The retry's answer is final, 401 included: no loops.
    return this.#fetch(this.#authorized(template, this.#token));
  }

  /**
   * `fetch` + JSON: resolves with the parsed body of a 2xx answer (null when
   * empty), rejects with AuthError carrying status and body otherwise.
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   * @returns {Promise<any>}
   */
  async json(input, init) {
    const res = await this.fetch(input, init);
    const body = await readBody(res);
    if (!res.ok) {
      throw new AuthError(detailOf(body, `${res.status} ${res.statusText}`), res.status, body);
    }
    return body;
  }

  /**
   * Logs out: ends the session server-side (refresh cookie and access
   * token), clears the cookies, drops the token, tells the other tabs.
   * Local state is cleared even when the server cannot be reached.
   * @returns {Promise<void>}
   */
  async logout() {
    const token = this.#token;
    this.#epoch++;
    try {
      await this.#withLock(async () => {
        /** @type {Record<string, string>} */
        const headers = {};
        if (token) headers.Authorization = `Bearer ${token}`;
        const csrf = this.#getCsrf();
        if (csrf) headers[this.#csrfHeaderName] = csrf;
        const res = await this.#auth(this.#paths.logout, { headers });
        await res.body?.cancel();
      });
    } finally {
      this.#loggedOut('logout');
      this.#post({ type: 'logout' });
    }
  }

  /**
   * Logs out everywhere: ends every session of the user, on every device.
   * Needs a valid session (refreshes first if needed).
   * @returns {Promise<{ sessions_ended: number }>}
   */
  async logoutAll() {
    const body = await this.json(this.#paths.logoutAll, { method: 'POST' });
    this.#epoch++;
    this.#loggedOut('logout-all');
    this.#post({ type: 'logout' });
    return body;
  }

  /** Stops timers and listeners (for single-page apps that unmount). */
  close() {
    clearTimeout(this.#timer);
    this.#channel?.close();
    this.#channel = null;
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', this.#onVisibility);
    }
  }

  // --- internals -------------------------------------------------------

  /**
   * @param {RequestInfo | URL} input
   * @param {RequestInit} [init]
   */
  #request(input, init) {
    let url;
    if (input instanceof Request) {
      url = input.url;
    } else {
      const s = String(input);
      // '/protected' goes under baseUrl, path prefix included.
      url = s.startsWith('/') && !s.startsWith('//') ? this.#base + s : new URL(s, this.#base + '/').href;
    }
    const origin = new URL(url).origin;
    if (origin !== this.#origin) {
      throw new TypeError(`authx: refusing to send the access token to ${origin}`);
    }
    return new Request(input instanceof Request ? input : url, {
      credentials: 'include',
      cache: 'no-store',
      ...init,
    });
  }

  /**
   * @param {Request} template
   * @param {string} token
   */
  #authorized(template, token) {
    const headers = new Headers(template.headers);
    headers.set('Authorization', `Bearer ${token}`);
    return new Request(template.clone(), { headers });
  }

  /**
   * POST to an auth endpoint, with credentials, not cached, time-limited.
   * @param {string} path
   * @param {RequestInit} init
   */
  async #auth(path, init) {
    try {
      return await this.#fetch(this.#base + path, {
        method: 'POST',
        credentials: 'include',
        cache: 'no-store',
        signal: timeoutSignal(this.#timeoutMs),
        ...init,
      });
    } catch (e) {
      throw new AuthError(`Cannot reach the server: ${e instanceof Error ? e.message : e}`, 0);
    }
  }

  async #refreshOrThrow() {
    await this.refresh();
    if (!this.#token) throw new LoggedOutError('session-ended');
  }

  /**
   * One /refresh, under the cross-tab lock.
   * @returns {Promise<AccessClaims>}
   */
  async #refreshOnce() {
    const epoch = this.#epoch;
    const body = await this.#withLock(async () => {
      // Read the CSRF cookie inside the lock: another tab may just have
      // rotated it (each tab still needs its own access token, so it
      // refreshes with the new cookie) or logged out (then don't ask).
      const csrf = this.#getCsrf();
      if (!csrf) return { loggedOut: /** @type {LogoutReason} */ ('no-session') };
      if (csrf === this.#deadCsrf) {
        return { loggedOut: /** @type {LogoutReason} */ ('session-ended'), detail: 'Session ended' };
      }
      const res = await this.#auth(this.#paths.refresh, {
        headers: { [this.#csrfHeaderName]: csrf },
      });
      const data = await readBody(res);
      if (res.ok) return { data };
      if (res.status === 401 || res.status === 403) {
        this.#deadCsrf = csrf;
        return {
          loggedOut: /** @type {LogoutReason} */ ('session-ended'),
          detail: detailOf(data, 'Session ended'),
        };
      }
      throw new AuthError(detailOf(data, `Refresh failed (${res.status})`), res.status, data);
    });
    if (epoch !== this.#epoch) {
      // A login or logout happened meanwhile: its outcome wins.
      if (!this.#claims) throw new LoggedOutError('logout');
      return { ...this.#claims };
    }
    if ('loggedOut' in body && body.loggedOut) {
      const reason = body.loggedOut;
      this.#loggedOut(reason, body.detail);
      throw new LoggedOutError(reason, body.detail);
    }
    return this.#accept(body.data, 'refresh');
  }

  /**
   * Runs `fn` holding the cross-tab lock when Web Locks exist.
   * @template T
   * @param {() => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async #withLock(fn) {
    if (!this.crossTabLocking) return fn();
    const signal = timeoutSignal(this.#timeoutMs);
    try {
      return await navigator.locks.request(this.#lockName, signal ? { signal } : {}, fn);
    } catch (e) {
      if (e instanceof DOMException && (e.name === 'AbortError' || e.name === 'TimeoutError')) {
        throw new AuthError('Timed out waiting for another tab to finish refreshing', 0);
      }
      throw e;
    }
  }

  /**
   * Takes the token of a /login or /refresh answer.
   * @param {unknown} body
   * @param {'login' | 'refresh'} how
   * @returns {AccessClaims}
   */
  #accept(body, how) {
    const token =
      body && typeof body === 'object' && 'access_token' in body
        ? /** @type {{ access_token: unknown }} */ (body).access_token
        : null;
    if (typeof token !== 'string' || !token) {
      throw new AuthError('The server answered without an access token', 0, body);
    }
    const claims = decodeClaims(token) ?? /** @type {AccessClaims} */ ({ sub: '', exp: 0, iat: 0 });
    const previous = this.#claims;
    const wasIn = this.#token !== null;
    this.#token = token;
    this.#claims = claims;
    // Lifetime from the token itself, laid on this machine's clock: a
    // client clock that is off does not shorten or stretch it.
    const lifetimeMs = claims.exp && claims.iat ? (claims.exp - claims.iat) * 1000 : 0;
    const now = Date.now();
    this.#expiresAt = lifetimeMs > 0 ? now + lifetimeMs : Infinity;
    if (this.#ahead === false || lifetimeMs <= 0) {
      this.#staleAt = Infinity;
    } else {
      this.#staleAt = this.#expiresAt - Math.min(this.#ahead * 1000, lifetimeMs / 4);
    }
    this.#schedule();
    const type = how === 'login' || !wasIn || previous?.sub !== claims.sub ? 'login' : 'refresh';
    this.dispatchEvent(
      new CustomEvent(type, { detail: { claims: { ...claims }, expiresAt: this.#expiresAt } }),
    );
    return { ...claims };
  }

  #isStale() {
    return Date.now() >= this.#staleAt;
  }

  #schedule() {
    clearTimeout(this.#timer);
    this.#refreshWhenVisible = false;
    if (!this.#token || this.#staleAt === Infinity) return;
    const delay = Math.max(0, Math.min(this.#staleAt - Date.now(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => this.#proactive(), delay);
  }

  #proactive() {
    if (!this.#token) return;
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') {
      // Nobody is looking: refresh on the next call or when shown again.
      this.#refreshWhenVisible = true;
      return;
    }
    // Failures: LoggedOutError already fired `logout`; a network error
    // leaves the token to the next call's own refresh.
    this.refresh().catch(() => {});
  }

  #visibilityChanged() {
    if (document.visibilityState === 'visible' && this.#refreshWhenVisible && this.#token) {
      this.#refreshWhenVisible = false;
      if (this.#isStale()) this.refresh().catch(() => {});
      else this.#schedule();
    }
  }

  /**
   * Drops the token; fires `logout` if there was one.
   * @param {LogoutReason} reason
   * @param {string} [detail]
   */
  #loggedOut(reason, detail) {
    clearTimeout(this.#timer);
    const wasIn = this.#token !== null;
    this.#token = null;
    this.#claims = null;
    this.#expiresAt = 0;
    this.#staleAt = Infinity;
    if (wasIn) {
      this.dispatchEvent(new CustomEvent('logout', { detail: { reason, detail } }));
    }
  }

  /** @param {{ type: 'login' | 'logout' }} message */
  #post(message) {
    this.#channel?.postMessage({ ...message, from: this.#tabId });
  }

  /** @param {unknown} message */
  #onMessage(message) {
    if (!message || typeof message !== 'object') return;
    const { type, from } = /** @type {{ type?: string, from?: string }} */ (message);
    if (from === this.#tabId) return;
    if (type === 'logout') {
      this.#epoch++;
      this.#loggedOut('other-tab');
    } else if (type === 'login' && this.#followOtherTabs) {
      // The cookie jar now holds the other tab's session: follow it (a
      // refresh under the lock, so it is serialized with that tab).
      this.refresh().catch(() => {});
    }
  }
}

/**
 * Same as `new AuthClient(options)`.
 * @param {AuthClientOptions} [options]
 */
export function createAuthClient(options) {
  return new AuthClient(options);
}
