//! Shared helpers of the black-box tests: spawn the real `authx-server`
//! binary on a free port with its own database, talk to it over HTTP,
//! parse `Set-Cookie` headers and token claims, run the CLI.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_authx-server");

/// A strong HS256 secret (48 bytes).
pub const SECRET: &str = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/// Argon2 cost low enough for tests.
pub const FAST_ARGON: [&str; 4] = ["--argon2-memory-kib", "1024", "--argon2-iterations", "1"];

/// How long a server may take to print its port.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The message of a refused login (the seed's).
pub const BAD_LOGIN: &str = "Invalid username or password";

/// A command for the binary with a clean environment: only `PATH` and
/// `HOME` are inherited, so no `JWT_*`, `AUTHX_*` or `REDIS_URL` leaks in.
pub fn clean_command() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear();
    for key in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(key) {
            cmd.env(key, v);
        }
    }
    cmd
}

/// How to start a server: database, extra flags and environment.
#[derive(Debug, Clone)]
pub struct Spawn {
    pub db: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Whether [`FAST_ARGON`] is passed (the default).
    pub fast_argon: bool,
    /// Started under this open-file limit (`ulimit -n`), when set.
    pub open_files: Option<u32>,
}

/// A process that exited (instead of serving).
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Spawn {
    /// A server on `dir/authx.db` with [`SECRET`] as `JWT_SECRET_KEY`.
    pub fn new(dir: &Path) -> Self {
        Self {
            db: dir.join("authx.db"),
            args: Vec::new(),
            env: vec![("JWT_SECRET_KEY".into(), SECRET.into())],
            fast_argon: true,
            open_files: None,
        }
    }

    /// Starts the server under an open-file limit of `n` (soft and hard).
    pub fn open_files(mut self, n: u32) -> Self {
        self.open_files = Some(n);
        self
    }

    /// Hashes passwords with the server's configured (or default) argon2
    /// cost instead of the fast one tests use otherwise.
    pub fn configured_argon(mut self) -> Self {
        self.fast_argon = false;
        self
    }

    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_owned());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Sets (or replaces) an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Removes an environment variable (e.g. `JWT_SECRET_KEY`).
    pub fn without_env(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// The full command line of the server.
    pub fn command(&self) -> Command {
        let mut cmd = clean_command();
        cmd.arg("--port").arg("0").arg("--database").arg(&self.db);
        if self.fast_argon {
            cmd.args(FAST_ARGON);
        }
        cmd.args(&self.args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        match self.open_files {
            None => cmd,
            Some(n) => {
                // The shell lowers the limit, then becomes the server.
                let mut sh = Command::new("/bin/sh");
                sh.env_clear()
                    .arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(cmd.get_program())
                    .args(cmd.get_args());
                for (k, v) in cmd.get_envs() {
                    if let Some(v) = v {
                        sh.env(k, v);
                    }
                }
                sh
            }
        }
    }

    /// Starts the server; panics (with its stderr) if it does not serve.
    pub fn start(&self) -> Server {
        match self.try_start() {
            Ok(s) => s,
            Err(e) => panic!(
                "server did not start ({}):\nstdout: {}\nstderr: {}",
                e.status, e.stdout, e.stderr
            ),
        }
    }

    /// Starts the server, or returns how it exited.
    pub fn try_start(&self) -> Result<Server, Exited> {
        let mut child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn authx-server");
        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_thread = {
            let pipe = child.stderr.take().expect("stderr");
            let sink = stderr.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    sink.lock().expect("stderr lock").push_str(&line);
                    line.clear();
                }
            })
        };
        let stdout = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<u16>();
        let stdout_thread = {
            let pipe = child.stdout.take().expect("stdout");
            let sink = stdout.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(pipe);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 {
                    sink.lock().expect("stdout lock").push_str(&line);
                    if let Some(rest) = line.trim().strip_prefix("listening on http://")
                        && let Some(port) = rest.rsplit(':').next().and_then(|p| p.parse().ok())
                    {
                        let _ = tx.send(port);
                    }
                    line.clear();
                }
            })
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(port) => {
                // The log line "listening" precedes the stdout line: wait
                // for it so startup logs are complete in `stderr()`.
                let deadline = Instant::now() + Duration::from_secs(10);
                while !stderr.lock().expect("lock").contains("listening")
                    && Instant::now() < deadline
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                let base = format!("http://127.0.0.1:{port}");
                Ok(Server {
                    child,
                    port,
                    base,
                    stderr,
                    threads: vec![stderr_thread, stdout_thread],
                    client: client(),
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().expect("wait");
                let _ = stderr_thread.join();
                let _ = stdout_thread.join();
                Err(Exited {
                    status,
                    stdout: stdout.lock().expect("lock").clone(),
                    stderr: stderr.lock().expect("lock").clone(),
                })
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server printed no port within {START_TIMEOUT:?}; stderr: {}",
                    stderr.lock().expect("lock")
                );
            }
        }
    }

    /// Starts the server expecting a refusal: it must exit non-zero
    /// without serving. Returns its output.
    pub fn expect_refusal(&self) -> Exited {
        match self.try_start() {
            Ok(server) => panic!(
                "the server started on port {} but should have refused; stderr: {}",
                server.port,
                server.stderr()
            ),
            Err(e) => {
                assert!(
                    !e.status.success(),
                    "refusal must exit non-zero: {} (stderr {})",
                    e.status,
                    e.stderr
                );
                e
            }
        }
    }
}

/// `POST /refresh` as a browser sends it: both cookies and the CSRF header.
/// A free function, so spawned tasks can send it with a cloned client.
pub fn refresh_request(
    client: &reqwest::Client,
    url: String,
    refresh: &str,
    csrf: &str,
) -> reqwest::RequestBuilder {
    client
        .post(url)
        .header(
            "cookie",
            format!("refresh_token_cookie={refresh}; csrf_refresh_token={csrf}"),
        )
        .header("x-csrf-token", csrf)
}

/// An HTTP client that neither follows redirects nor keeps cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// A running server; killed on drop.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub port: u16,
    pub base: String,
    stderr: Arc<Mutex<String>>,
    threads: Vec<JoinHandle<()>>,
    pub client: reqwest::Client,
}

impl Server {
    /// Sends SIGTERM and waits up to 10 s for the process to exit.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A collected response.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub async fn from(res: reqwest::Response) -> Self {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.expect("read body").to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the raw body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?} (status {})",
                self.text(),
                self.status
            )
        })
    }

    /// The only value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut all = self.headers.get_all(name).iter();
        let first = all.next()?;
        assert!(all.next().is_none(), "header {name} sent more than once");
        Some(first.to_str().expect("header is not visible ASCII"))
    }

    /// The `Set-Cookie` headers, parsed.
    pub fn cookies(&self) -> Vec<SetCookie> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| SetCookie::parse(v.to_str().expect("set-cookie is ASCII")))
            .collect()
    }

    /// The one `Set-Cookie` of `name`; panics when absent or repeated.
    pub fn cookie(&self, name: &str) -> SetCookie {
        let mut found: Vec<SetCookie> = self
            .cookies()
            .into_iter()
            .filter(|c| c.name == name)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "expected one Set-Cookie {name}, got {:?}",
            self.headers.get_all("set-cookie")
        );
        found.remove(0)
    }

    /// Asserts the status, with the body in the message.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Asserts the seed's error shape `{"detail": "<message>"}` with
    /// `status`, and returns the message.
    #[track_caller]
    pub fn detail(&self, status: u16) -> String {
        self.expect(status);
        let body = self.json();
        let obj = body.as_object().expect("error body is an object");
        assert_eq!(obj.len(), 1, "error body has only `detail`: {body}");
        obj["detail"]
            .as_str()
            .unwrap_or_else(|| panic!("detail is a string: {body}"))
            .to_owned()
    }
}

/// One parsed `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    pub raw: String,
    pub name: String,
    pub value: String,
    /// Attribute names lower-cased, values as sent.
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> Self {
        let mut parts = raw.split(';');
        let pair = parts.next().unwrap_or_default();
        let (name, value) = pair.split_once('=').expect("cookie has name=value");
        let attrs = parts
            .map(|a| {
                let a = a.trim();
                match a.split_once('=') {
                    Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim().to_owned())),
                    None => (a.to_ascii_lowercase(), None),
                }
            })
            .collect();
        Self {
            raw: raw.to_owned(),
            name: name.trim().to_owned(),
            value: value.trim().trim_matches('"').to_owned(),
            attrs,
        }
    }

    pub fn has(&self, attr: &str) -> bool {
        let attr = attr.to_ascii_lowercase();
        self.attrs.iter().any(|(k, _)| *k == attr)
    }

    pub fn attr(&self, attr: &str) -> Option<&str> {
        let attr = attr.to_ascii_lowercase();
        self.attrs
            .iter()
            .find(|(k, _)| *k == attr)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Whether this header deletes the cookie.
    pub fn clears(&self) -> bool {
        self.value.is_empty() && self.attr("max-age") == Some("0")
    }
}

/// The tokens a login or refresh hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub csrf: String,
}

impl Tokens {
    /// From a 200 response of `/login` or `/refresh`.
    #[track_caller]
    pub fn from_resp(res: &Resp) -> Self {
        res.expect(200);
        let body = res.json();
        assert_eq!(body["token_type"], "bearer", "{body}");
        assert_eq!(
            body.as_object().map(|o| o.len()),
            Some(2),
            "only access_token and token_type: {body}"
        );
        let access = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        let refresh = res.cookie("refresh_token_cookie").value;
        let csrf = res.cookie("csrf_refresh_token").value;
        assert!(!refresh.is_empty() && !csrf.is_empty());
        Self {
            access,
            refresh,
            csrf,
        }
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGTERM and returns its exit status.
    pub fn stop(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                for t in self.threads.drain(..) {
                    let _ = t.join();
                }
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        Resp::from(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str) -> Resp {
        self.send(self.client.post(self.url(path))).await
    }

    /// POST /login with a JSON body.
    pub async fn login_body(&self, body: &Value) -> Resp {
        self.send(self.client.post(self.url("/login")).json(body))
            .await
    }

    /// POST /login with `username` and `password`.
    pub async fn login_raw(&self, username: &str, password: &str) -> Resp {
        self.login_body(&json!({"username": username, "password": password}))
            .await
    }

    /// A successful login.
    pub async fn login(&self, username: &str, password: &str) -> Tokens {
        let res = self.login_raw(username, password).await;
        Tokens::from_resp(&res)
    }

    /// POST /refresh with the refresh cookie, the CSRF cookie and header.
    pub async fn refresh_raw(&self, refresh: &str, csrf: &str) -> Resp {
        self.send(refresh_request(
            &self.client,
            self.url("/refresh"),
            refresh,
            csrf,
        ))
        .await
    }

    pub async fn refresh_with(&self, t: &Tokens) -> Resp {
        self.refresh_raw(&t.refresh, &t.csrf).await
    }

    /// A successful refresh.
    pub async fn refresh(&self, t: &Tokens) -> Tokens {
        let res = self.refresh_with(t).await;
        Tokens::from_resp(&res)
    }

    /// GET `path` with `Authorization: Bearer <access>`.
    pub async fn get_auth(&self, path: &str, access: &str) -> Resp {
        self.send(self.client.get(self.url(path)).bearer_auth(access))
            .await
    }

    pub async fn post_auth(&self, path: &str, access: &str) -> Resp {
        self.send(self.client.post(self.url(path)).bearer_auth(access))
            .await
    }

    pub async fn delete_auth(&self, path: &str, access: &str) -> Resp {
        self.send(self.client.delete(self.url(path)).bearer_auth(access))
            .await
    }

    /// GET /protected with the access token in the header.
    pub async fn protected(&self, access: &str) -> Resp {
        self.get_auth("/protected", access).await
    }

    /// POST /logout as the browser client sends it: both cookies and the
    /// CSRF header (and the access token when `with_access`).
    pub async fn logout(&self, t: &Tokens, with_access: bool) -> Resp {
        let mut req = self
            .client
            .post(self.url("/logout"))
            .header(
                "cookie",
                format!(
                    "refresh_token_cookie={}; csrf_refresh_token={}",
                    t.refresh, t.csrf
                ),
            )
            .header("x-csrf-token", &t.csrf);
        if with_access {
            req = req.bearer_auth(&t.access);
        }
        self.send(req).await
    }

    /// The `sessions` array of GET /sessions.
    pub async fn sessions(&self, access: &str) -> Vec<Value> {
        let res = self.get_auth("/sessions", access).await;
        res.expect(200);
        res.json()["sessions"]
            .as_array()
            .expect("sessions array")
            .clone()
    }

    /// Sends raw bytes on a fresh TCP connection and returns what came
    /// back (until the server closes or `timeout` passes).
    pub async fn raw_http(&self, request: &[u8], timeout: Duration) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect");
        // The server may answer and close before reading everything.
        let _ = stream.write_all(request).await;
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(timeout, stream.read_to_end(&mut buf)).await;
        String::from_utf8_lossy(&buf).into_owned()
    }
}

/// The status code of a raw HTTP/1.1 response.
pub fn raw_status(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// The claims of a JWT, unverified.
pub fn claims(token: &str) -> Value {
    segment(token, 1)
}

/// The header of a JWT, unverified.
pub fn jwt_header(token: &str) -> Value {
    segment(token, 0)
}

fn segment(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("JWT segment");
    let bytes = URL_SAFE_NO_PAD.decode(part).expect("base64url segment");
    serde_json::from_slice(&bytes).expect("JSON segment")
}

/// The `jti` of a token.
pub fn jti(token: &str) -> String {
    claims(token)["jti"].as_str().expect("jti").to_owned()
}

/// Output of a CLI run.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `authx-server --database <db> <fast argon2> <args>` with `stdin`
/// and the given environment (on top of a clean one).
pub fn cli(db: &Path, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> CliOutput {
    let mut cmd = clean_command();
    cmd.arg("--database").arg(db).args(FAST_ARGON).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd, stdin)
}

/// Runs a prepared command to completion (60 s at most).
pub fn run(mut cmd: Command, stdin: Option<&str>) -> CliOutput {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authx-server");
    {
        let mut pipe = child.stdin.take().expect("stdin");
        if let Some(input) = stdin {
            let _ = pipe.write_all(input.as_bytes());
        }
        // Dropping the pipe closes stdin.
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("command did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    CliOutput {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// Fails unless `haystack` contains `needle` (case-insensitive).
#[track_caller]
pub fn assert_mentions(haystack: &str, needle: &str) {
    assert!(
        haystack.to_lowercase().contains(&needle.to_lowercase()),
        "expected {needle:?} in:\n{haystack}"
    );
}
