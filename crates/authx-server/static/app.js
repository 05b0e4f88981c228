// The /app page: a small UI over authx-client.js. No framework, no build.
import { AuthClient, AuthError, LoggedOutError } from './authx-client.js';

const auth = new AuthClient();

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return /** @type {T} */ (el);
}

const ui = {
  status: $('status'),
  signin: $('signin'),
  account: $('account'),
  form: /** @type {HTMLFormElement} */ ($('login-form')),
  username: /** @type {HTMLInputElement} */ ($('username')),
  password: /** @type {HTMLInputElement} */ ($('password')),
  loginButton: /** @type {HTMLButtonElement} */ ($('login-button')),
  loginError: $('login-error'),
  userTitle: $('user-title'),
  userName: $('user-name'),
  userEmail: $('user-email'),
  userSession: $('user-session'),
  userLocking: $('user-locking'),
  ttl: $('ttl'),
  ttlMeter: /** @type {HTMLMeterElement} */ ($('ttl-meter')),
  tokenIssued: $('token-issued'),
  tokenExpires: $('token-expires'),
  tokenRefreshes: $('token-refreshes'),
  apiStatus: $('api-status'),
  apiResult: $('api-result'),
  sessionsTitle: $('sessions-title'),
  sessionsBody: $('sessions-body'),
  log: $('log'),
};

let refreshes = 0;
/** @type {number} */
let lifetimeMs = 0;
/** @type {ReturnType<typeof setInterval> | undefined} */
let ticker;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** @param {string} message @param {'info' | 'good' | 'warn'} [kind] */
function log(message, kind = 'info') {
  const li = document.createElement('li');
  li.dataset.kind = kind;
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = timeFormat.format(now);
  li.append(time, ' ', message);
  ui.log.prepend(li);
  while (ui.log.children.length > 30) ui.log.lastElementChild?.remove();
}

/** @param {'in' | 'out' | 'loading'} state @param {string} text */
function setStatus(state, text) {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

/** @param {number} ms */
function formatDuration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

function tick() {
  const expiresAt = auth.expiresAt;
  if (!expiresAt || !Number.isFinite(expiresAt)) {
    ui.ttl.textContent = '—';
    ui.ttlMeter.value = 0;
    return;
  }
  const left = expiresAt - Date.now();
  ui.ttl.textContent = left > 0 ? formatDuration(left) : 'expired';
  ui.ttlMeter.value = lifetimeMs > 0 ? Math.max(0, Math.min(1, left / lifetimeMs)) : 0;
  ui.ttlMeter.textContent = `${Math.round(ui.ttlMeter.value * 100)}%`;
}

function showToken() {
  const claims = auth.claims;
  const expiresAt = auth.expiresAt;
  if (!claims || !expiresAt) return;
  lifetimeMs = (claims.exp - claims.iat) * 1000;
  ui.tokenIssued.textContent = timeFormat.format(new Date(expiresAt - lifetimeMs));
  ui.tokenExpires.textContent = `${timeFormat.format(new Date(expiresAt))} (lives ${formatDuration(lifetimeMs)})`;
  ui.tokenRefreshes.textContent = String(refreshes);
  ui.userSession.textContent = typeof claims.sid === 'string' ? claims.sid : '—';
  tick();
  clearInterval(ticker);
  ticker = setInterval(tick, 250);
}

/** @param {boolean} focus */
async function showSignedIn(focus) {
  const claims = auth.claims;
  if (!claims) return;
  ui.signin.hidden = true;
  ui.account.hidden = false;
  setStatus('in', `Signed in as ${claims.sub}`);
  ui.userTitle.textContent = `Signed in as ${claims.sub}`;
  ui.userName.textContent = claims.sub;
  ui.userEmail.textContent = typeof claims.email === 'string' ? claims.email : '—';
  ui.userLocking.textContent = auth.crossTabLocking
    ? 'Web Locks: tabs refresh one at a time'
    : 'Unavailable: each tab refreshes on its own';
  showToken();
  if (focus) ui.userTitle.focus();
  await loadSessions();
}

/** @param {string} [message] */
function showSignedOut(message) {
  clearInterval(ticker);
  ui.account.hidden = true;
  ui.signin.hidden = false;
  setStatus('out', 'Signed out');
  ui.loginError.textContent = message ?? '';
  ui.apiResult.textContent = 'No call yet.';
  ui.apiStatus.hidden = true;
  ui.password.value = '';
}

/** @param {string} reason */
function describeLogout(reason) {
  switch (reason) {
    case 'logout':
      return 'You logged out.';
    case 'logout-all':
      return 'You logged out everywhere.';
    case 'other-tab':
      return 'You logged out in another tab.';
    case 'session-ended':
      return 'Your session ended (it expired, or was ended from another device).';
    default:
      return 'You are not signed in.';
  }
}

/**
 * Runs an action from a button: disables it meanwhile, reports errors.
 * @param {HTMLButtonElement} button
 * @param {() => Promise<void>} action
 */
async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (e) {
    report(e);
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/** @param {unknown} e */
function report(e) {
  if (e instanceof LoggedOutError) {
    log(`Call refused: logged out (${e.reason}).`, 'warn');
    return;
  }
  const message = e instanceof Error ? e.message : String(e);
  log(`Error: ${message}`, 'warn');
}

/**
 * @param {string} label
 * @param {string} path
 * @param {RequestInit} [init]
 */
async function callApi(label, path, init) {
  try {
    const res = await auth.fetch(path, init);
    const text = await res.text();
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      /* not JSON */
    }
    ui.apiStatus.hidden = false;
    ui.apiStatus.textContent = `${res.status} ${res.statusText}`;
    ui.apiStatus.dataset.ok = String(res.ok);
    ui.apiResult.textContent = shown;
    log(`${label}: ${res.status}`, res.ok ? 'good' : 'warn');
  } catch (e) {
    if (e instanceof LoggedOutError) {
      log(`${label}: logged out`, 'warn');
      return;
    }
    throw e;
  }
}

/**
 * @param {string} ua
 */
function describeAgent(ua) {
  if (!ua) return 'Unknown device';
  const browser =
    /Edg\/(\d+)/.exec(ua)?.[0].replace('Edg/', 'Edge ') ??
    /Firefox\/(\d+)/.exec(ua)?.[0].replace('/', ' ') ??
    /HeadlessChrome\/(\d+)/.exec(ua)?.[0].replace('HeadlessChrome/', 'Headless Chrome ') ??
    /Chrom(e|ium)\/(\d+)/.exec(ua)?.[0].replace('/', ' ') ??
    (/Safari\//.test(ua) ? 'Safari' : null) ??
    ua.split(/[ /]/)[0];
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Android/.test(ua)
      ? 'Android'
      : /iPhone|iPad/.test(ua)
        ? 'iOS'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

/**
 * @typedef {{ id: string, current: boolean, user_agent: string | null,
 *   ip: string | null, created_ms: number, last_used_ms: number,
 *   expires_ms: number }} Session
 */

async function loadSessions() {
  /** @type {{ sessions: Session[] }} */
  let data;
  try {
    data = await auth.json('/sessions');
  } catch (e) {
    if (!(e instanceof LoggedOutError)) report(e);
    return;
  }
  ui.sessionsBody.replaceChildren(
    ...data.sessions.map((s) => {
      const tr = document.createElement('tr');
      if (s.current) tr.classList.add('current');
      const device = document.createElement('td');
      const name = describeAgent(s.user_agent ?? '');
      device.append(name);
      if (s.current) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this tab';
        device.append(' ', badge);
      }
      if (s.user_agent) device.title = s.user_agent;
      /** @type {[string, string][]} */
      const columns = [
        ['Address', s.ip ?? '—'],
        ['Signed in', dateFormat.format(s.created_ms)],
        ['Last used', dateFormat.format(s.last_used_ms)],
        ['Expires', dateFormat.format(s.expires_ms)],
      ];
      const cells = columns.map(([label, text]) => {
        const td = document.createElement('td');
        td.dataset.label = label; // shown as a prefix on narrow screens
        td.textContent = text;
        return td;
      });
      const action = document.createElement('td');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'quiet';
      button.textContent = 'End';
      button.setAttribute(
        'aria-label',
        s.current
          ? `End this tab's session (logs out), ${name}`
          : `End session ${name}, signed in ${dateFormat.format(s.created_ms)}`,
      );
      button.addEventListener('click', () => busy(button, () => endSession(s)));
      action.append(button);
      tr.append(device, ...cells, action);
      return tr;
    }),
  );
  if (data.sessions.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 6;
    td.textContent = 'No live sessions.';
    tr.append(td);
    ui.sessionsBody.replaceChildren(tr);
  }
}

/** @param {Session} s */
async function endSession(s) {
  const res = await auth.fetch(`/sessions/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
  if (res.status === 204) {
    log(`Ended session ${s.id.slice(0, 8)}…`, 'good');
  } else {
    log(`Ending session ${s.id.slice(0, 8)}…: ${res.status}`, 'warn');
  }
  if (s.current) {
    // This tab's own session: its refresh token is dead now.
    await auth.logout();
    return;
  }
  await loadSessions();
  ui.sessionsTitle.focus();
}

// --- events from the client --------------------------------------------

auth.on('login', () => {
  refreshes = 0;
  log(`Signed in as ${auth.claims?.sub}.`, 'good');
  const focus = ui.account.hidden && document.activeElement !== document.body;
  showSignedIn(focus).catch(report);
});

auth.on('refresh', () => {
  refreshes += 1;
  log('Access token refreshed (refresh cookie rotated).');
  showToken();
});

auth.on('logout', (e) => {
  const message = describeLogout(e.detail.reason);
  log(`Logged out: ${e.detail.reason}${e.detail.detail ? ` (${e.detail.detail})` : ''}.`, 'warn');
  showSignedOut(message);
  ui.username.focus();
});

// --- controls -----------------------------------------------------------

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    ui.loginError.textContent = 'Enter a username and a password.';
    (username ? ui.password : ui.username).focus();
    return;
  }
  ui.loginError.textContent = '';
  busy(ui.loginButton, async () => {
    try {
      await auth.login(username, password);
      ui.password.value = '';
      ui.userTitle.focus();
    } catch (e) {
      if (e instanceof AuthError) {
        ui.loginError.textContent =
          e.status === 429 ? 'Too many attempts; wait a minute and try again.' : e.status === 0 ? e.message : e.message;
        ui.password.select();
        ui.password.focus();
        return;
      }
      throw e;
    }
  });
});

const button = (/** @type {string} */ id) => /** @type {HTMLButtonElement} */ ($(id));

button('refresh-button').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), async () => {
    await auth.refresh();
  }),
);
button('call-protected').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), () => callApi('GET /protected', '/protected')),
);
button('call-action').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), () =>
    callApi('POST /protected-action', '/protected-action', { method: 'POST' }),
  ),
);
button('sessions-reload').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), loadSessions),
);
button('logout-button').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), () => auth.logout()),
);
button('logout-all-button').addEventListener('click', (e) =>
  busy(/** @type {HTMLButtonElement} */ (e.currentTarget), async () => {
    const { sessions_ended } = await auth.logoutAll();
    log(`Ended ${sessions_ended} session${sessions_ended === 1 ? '' : 's'}.`, 'good');
  }),
);

// --- start: the token was in memory only, so a reload restores the
// session with a refresh when the refresh cookie is there.
(async () => {
  try {
    const restored = await auth.restore();
    if (!restored) {
      showSignedOut();
      ui.username.focus();
    }
  } catch (e) {
    showSignedOut('The server cannot be reached.');
    report(e);
  }
  document.documentElement.dataset.ready = 'true';
})();
