/**
 * Reads one cookie visible to this document.
 * @param {string} name
 * @returns {string | null}
 */
export function readCookie(name: string): string | null;
/**
 * Same as `new AuthClient(options)`.
 * @param {AuthClientOptions} [options]
 */
export function createAuthClient(options?: AuthClientOptions): AuthClient;
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
    constructor(message: string, status: number, body?: unknown);
    /** @type {number} */
    status: number;
    /** @type {unknown} */
    body: unknown;
}
/** There is no session: sign in again. `reason` says why. */
export class LoggedOutError extends AuthError {
    /**
     * @param {LogoutReason} reason
     * @param {string} [detail]
     */
    constructor(reason: LogoutReason, detail?: string);
    /** @type {LogoutReason} */
    reason: LogoutReason;
    /** @type {string | undefined} */
    detail: string | undefined;
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
    /** @param {AuthClientOptions} [options] */
    constructor(options?: AuthClientOptions);
    /** Whether an access token is held (it may have expired; calls refresh). */
    get isAuthenticated(): boolean;
    /**
     * Claims of the current access token, or null when logged out.
     * @returns {AccessClaims | null}
     */
    get claims(): AccessClaims | null;
    /** When the access token expires, in this machine's clock (ms), or null. */
    get expiresAt(): number | null;
    /** Whether refreshes are serialized across tabs (Web Locks present). */
    get crossTabLocking(): boolean;
    /**
     * Typed `addEventListener` for this client's events.
     * @template {keyof AuthEventMap} K
     * @param {K} type
     * @param {(event: AuthEventMap[K]) => void} listener
     * @param {AddEventListenerOptions} [options]
     * @returns {() => void} removes the listener
     */
    on<K extends keyof AuthEventMap>(type: K, listener: (event: AuthEventMap[K]) => void, options?: AddEventListenerOptions): () => void;
    /**
     * Signs in. Resolves with the token's claims; rejects with AuthError
     * (401 bad credentials, 429 rate limited, 422 bad input, 0 no network).
     * @param {string} username
     * @param {string} password
     * @returns {Promise<AccessClaims>}
     */
    login(username: string, password: string): Promise<AccessClaims>;
    /**
     * Restores the session after a reload (the token was in memory only):
     * refreshes when a refresh cookie is present. Resolves true when signed
     * in, false when there is no session; rejects on network or server errors.
     * @returns {Promise<boolean>}
     */
    restore(): Promise<boolean>;
    /**
     * Gets a new access token now (rotating the refresh cookie). Concurrent
     * callers share one request. Rejects with LoggedOutError when the session
     * is gone, AuthError otherwise (network, 5xx: the session is kept).
     * @returns {Promise<AccessClaims>} the new token's claims
     */
    refresh(): Promise<AccessClaims>;
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
    fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
    /**
     * `fetch` + JSON: resolves with the parsed body of a 2xx answer (null when
     * empty), rejects with AuthError carrying status and body otherwise.
     * @param {RequestInfo | URL} input
     * @param {RequestInit} [init]
     * @returns {Promise<any>}
     */
    json(input: RequestInfo | URL, init?: RequestInit): Promise<any>;
    /**
     * Logs out: ends the session server-side (refresh cookie and access
     * token), clears the cookies, drops the token, tells the other tabs.
     * Local state is cleared even when the server cannot be reached.
     * @returns {Promise<void>}
     */
    logout(): Promise<void>;
    /**
     * Logs out everywhere: ends every session of the user, on every device.
     * Needs a valid session (refreshes first if needed).
     * @returns {Promise<{ sessions_ended: number }>}
     */
    logoutAll(): Promise<{
        sessions_ended: number;
    }>;
    /** Stops timers and listeners (for single-page apps that unmount). */
    close(): void;
    #private;
}
export type AuthClientOptions = {
    /**
     * Origin (and optional path prefix) of the authx
     * server, e.g. `https://api.example.com`. Default: this page's origin.
     */
    baseUrl?: string | undefined;
    /**
     * Cookie holding the refresh CSRF value
     * (default `csrf_refresh_token`).
     */
    csrfCookieName?: string | undefined;
    /**
     * Header the server expects it in
     * (default `X-CSRF-TOKEN`).
     */
    csrfHeaderName?: string | undefined;
    /**
     * Reads the CSRF value
     * (default: from `document.cookie`).
     */
    getCsrfToken?: (() => (string | null)) | undefined;
    /**
     * Refresh this long before
     * the access token expires (capped at a quarter of its lifetime); `false`
     * turns proactive refresh off, so an expired token is only replaced after
     * a 401. Default 30.
     */
    refreshAheadSeconds?: number | false | undefined;
    /**
     * Serialize refreshes across tabs with Web
     * Locks when available (default true).
     */
    crossTabLock?: boolean | undefined;
    /**
     * Web Lock name (default `authx-refresh`).
     */
    lockName?: string | undefined;
    /**
     * BroadcastChannel that spreads
     * login and logout to the other tabs; `false` turns it off (default `authx`).
     */
    channelName?: string | false | undefined;
    /**
     * When another tab logs in, take over
     * its session with a refresh (default true).
     */
    followOtherTabs?: boolean | undefined;
    /**
     * Time limit of each auth request and of
     * waiting for the cross-tab lock (default 15000).
     */
    timeoutMs?: number | undefined;
    /**
     * Endpoint paths, relative to `baseUrl`.
     */
    paths?: AuthPaths | undefined;
    /**
     * The fetch to use (default: the global one).
     */
    fetch?: typeof fetch | undefined;
};
export type AuthPaths = {
    /**
     * default `/login`
     */
    login?: string | undefined;
    /**
     * default `/refresh`
     */
    refresh?: string | undefined;
    /**
     * default `/logout`
     */
    logout?: string | undefined;
    /**
     * default `/logout-all`
     */
    logoutAll?: string | undefined;
};
/**
 * Public claims of the current access token (decoded, not verified: the
 * server verifies; this is for display and scheduling only).
 */
export type AccessClaims = {
    sub: string;
    exp: number;
    iat: number;
    jti?: string;
    email?: string;
    sid?: string;
    [claim: string]: unknown;
};
/**
 * Why the client is logged out:
 * - `logout` / `logout-all`: this tab asked;
 * - `other-tab`: another tab of this browser logged out;
 * - `session-ended`: the server refused the refresh token (expired, revoked,
 *   ended from another device, replayed);
 * - `no-session`: there is no refresh cookie (never signed in, or cleared).
 */
export type LogoutReason = "logout" | "logout-all" | "other-tab" | "session-ended" | "no-session";
export type AuthEventMap = {
    /**
     *   A session started in this tab (login, restore, or another tab's login).
     */
    login: CustomEvent<{
        claims: AccessClaims;
        expiresAt: number;
    }>;
    /**
     *   The access token was replaced.
     */
    refresh: CustomEvent<{
        claims: AccessClaims;
        expiresAt: number;
    }>;
    /**
     *   The session is gone; the token in memory was dropped.
     */
    logout: CustomEvent<{
        reason: LogoutReason;
        detail?: string;
    }>;
};
