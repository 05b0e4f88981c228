//! The OpenAPI document and an offline docs page (no CDN).

use serde_json::{Value, json};

fn token_response() -> Value {
    json!({"description": "Tokens issued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenResponse"}}}})
}

fn error(desc: &str) -> Value {
    json!({"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Detail"}}}})
}

/// OpenAPI 3.1 description of every endpoint.
pub(crate) fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AuthX Dual Token Location Example",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Access tokens in the Authorization header, refresh tokens in HttpOnly cookies with CSRF double-submit; refresh tokens rotate on every use."
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "refreshCookie": {"type": "apiKey", "in": "cookie", "name": "refresh_token_cookie"},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-TOKEN"}
            },
            "schemas": {
                "LoginRequest": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}}},
                "TokenResponse": {"type": "object", "required": ["access_token", "token_type"], "properties": {"access_token": {"type": "string"}, "token_type": {"type": "string", "const": "bearer"}}},
                "Detail": {"type": "object", "properties": {"detail": {}}},
                "Session": {"type": "object", "properties": {"id": {"type": "string"}, "current": {"type": "boolean"}, "user_agent": {"type": ["string", "null"]}, "ip": {"type": ["string", "null"]}, "created_ms": {"type": "integer"}, "last_used_ms": {"type": "integer"}, "expires_ms": {"type": "integer"}}}
            }
        },
        "paths": {
            "/": {"get": {"summary": "API overview", "responses": {"200": {"description": "The flow and example requests"}}}},
            "/login": {"post": {
                "summary": "Log in: access token in the body, refresh token in an HttpOnly cookie",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LoginRequest"}}}},
                "responses": {"200": token_response(), "401": error("Invalid username or password"), "408": error("Body not received in time"), "413": error("Body larger than the limit"), "422": error("Invalid body"), "429": error("Too many login attempts"), "503": error("Token store or user database unavailable")}
            }},
            "/refresh": {"post": {
                "summary": "Rotate the refresh cookie and get a new access token",
                "security": [{"refreshCookie": [], "csrfHeader": []}],
                "responses": {"200": token_response(), "401": error("Missing, invalid, reused or revoked refresh token, or CSRF failure"), "503": error("Token store unavailable")}
            }},
            "/protected": {"get": {
                "summary": "A protected resource (access token from the Authorization header only)",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "Access granted"}, "401": error("Missing or invalid access token")}
            }},
            "/protected-action": {"post": {
                "summary": "A protected action; no CSRF header is needed for header tokens",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "Action performed"}, "401": error("Missing or invalid access token")}
            }},
            "/logout": {"post": {
                "summary": "Clear the refresh cookie and end the session server-side",
                "responses": {"200": {"description": "Logged out"}, "503": error("Token store unavailable")}
            }},
            "/logout-all": {"post": {
                "summary": "End every session of the caller",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "Logged out everywhere"}, "401": error("Missing or invalid access token"), "503": error("Token store unavailable")}
            }},
            "/sessions": {"get": {
                "summary": "The caller's live sessions",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "Sessions", "content": {"application/json": {"schema": {"type": "object", "properties": {"sessions": {"type": "array", "items": {"$ref": "#/components/schemas/Session"}}}}}}}, "401": error("Missing or invalid access token"), "503": error("Token store unavailable")}
            }},
            "/sessions/{id}": {"delete": {
                "summary": "End one of the caller's sessions",
                "security": [{"bearer": []}],
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"204": {"description": "Ended"}, "404": error("No such session of the caller"), "401": error("Missing or invalid access token"), "503": error("Token store unavailable")}
            }},
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "Alive"}}}},
            "/readyz": {"get": {"summary": "Readiness (checks the token store)", "responses": {"200": {"description": "Ready"}, "503": error("Store unavailable")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Metrics in text format"}}}},
            "/.well-known/jwks.json": {"get": {"summary": "Public keys for verifying access tokens (asymmetric algorithms)", "responses": {"200": {"description": "JWKS"}}}}
        }
    })
}

/// The docs page: renders `/openapi.json` and lets you try requests.
pub(crate) const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API docs</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; line-height: 1.45; }
details { border: 1px solid #ccc; border-radius: 6px; margin: .5rem 0; padding: .5rem .8rem; }
summary { cursor: pointer; font-family: ui-monospace, monospace; }
.m { display: inline-block; min-width: 4.5rem; font-weight: bold; }
textarea, input { font-family: ui-monospace, monospace; width: 100%; box-sizing: border-box; }
pre { background: #f5f5f5; padding: .6rem; overflow: auto; }
label { display: block; margin-top: .4rem; }
</style>
</head>
<body>
<h1 id="title">API docs</h1>
<p id="description"></p>
<p><a href="/openapi.json">openapi.json</a></p>
<label for="bearer">Access token (sent as <code>Authorization: Bearer</code>)</label>
<input id="bearer" autocomplete="off">
<div id="ops"></div>
<script src="/docs/docs.js"></script>
</body>
</html>
"#;

pub(crate) const DOCS_JS: &str = r#"'use strict';
async function main() {
  const spec = await (await fetch('/openapi.json')).json();
  document.getElementById('title').textContent = spec.info.title;
  document.getElementById('description').textContent = spec.info.description;
  const ops = document.getElementById('ops');
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const d = document.createElement('details');
      const s = document.createElement('summary');
      const m = document.createElement('span');
      m.className = 'm'; m.textContent = method.toUpperCase();
      s.append(m, path + ' — ' + (op.summary || ''));
      d.append(s);
      const p = document.createElement('label');
      p.textContent = 'Path';
      const pathInput = document.createElement('input');
      pathInput.value = path;
      p.append(pathInput);
      d.append(p);
      let body = null;
      if (op.requestBody) {
        const l = document.createElement('label');
        l.textContent = 'JSON body';
        body = document.createElement('textarea');
        body.rows = 4;
        body.value = '{"username": "user1", "password": "password1"}';
        l.append(body);
        d.append(l);
      }
      const csrfLabel = document.createElement('label');
      csrfLabel.textContent = 'X-CSRF-TOKEN (refresh: the csrf_refresh_token cookie)';
      const csrf = document.createElement('input');
      csrfLabel.append(csrf);
      d.append(csrfLabel);
      const b = document.createElement('button');
      b.type = 'button'; b.textContent = 'Send';
      const out = document.createElement('pre');
      b.addEventListener('click', async () => {
        const headers = {};
        const t = document.getElementById('bearer').value.trim();
        if (t) headers['Authorization'] = 'Bearer ' + t;
        if (csrf.value) headers['X-CSRF-TOKEN'] = csrf.value;
        if (body) headers['Content-Type'] = 'application/json';
        const res = await fetch(pathInput.value, { method: method.toUpperCase(), headers, body: body ? body.value : undefined, credentials: 'same-origin' });
        const text = await res.text();
        out.textContent = res.status + ' ' + res.statusText + '\n\n' + text;
      });
      d.append(b, out);
      ops.append(d);
    }
  }
}
main();
"#;
