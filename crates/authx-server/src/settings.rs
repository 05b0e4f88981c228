//! Command line and environment: every limit and option, with its flag and
//! variable. AuthX's own `JWT_*` variables configure the tokens.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The reference authx service.
#[derive(Debug, Parser)]
#[command(name = "authx-server", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Manage users in the database.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Make a secret (HS*) or a private key (ES256, EdDSA, ...).
    Keygen {
        /// Algorithm: HS256, HS384, HS512, ES256, ES384, ES512, EdDSA, RS256, PS256, ...
        #[arg(long, default_value = "HS256")]
        algorithm: String,
        /// Write the private key here (mode 0600) and its public key to `<out>.pub`;
        /// without it, print to stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Inspect tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserAction {
    /// Add a user; the password is read from a prompt, or from stdin when
    /// it is not a terminal (never from the command line).
    Add {
        /// The username.
        username: String,
        /// The user's email.
        #[arg(long)]
        email: Option<String>,
    },
    /// Remove a user.
    Remove {
        /// The username.
        username: String,
    },
    /// Change a user's password (read like `add`).
    Passwd {
        /// The username.
        username: String,
    },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenAction {
    /// Print a token's header and claims; verified when a key is given
    /// (`JWT_SECRET_KEY`, `--secret-file` or `--public-key-file`).
    Decode {
        /// The token.
        token: String,
    },
}

/// Options of the service. Each has a flag and an environment variable.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; overrides --port.
    #[arg(long, env = "AUTHX_BIND", global = true)]
    pub(crate) bind: Option<SocketAddr>,
    /// Port to listen on (all interfaces).
    #[arg(long, env = "PORT", default_value_t = 8000, global = true)]
    pub(crate) port: u16,
    /// SQLite database (users, and tokens unless --redis-url is set).
    #[arg(
        long,
        env = "AUTHX_DATABASE",
        default_value = "authx.db",
        global = true
    )]
    pub(crate) database: PathBuf,
    /// Keep sessions and revocations in Redis, shared by every instance.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub(crate) redis_url: Option<String>,
    /// Key prefix in Redis.
    #[arg(
        long,
        env = "AUTHX_REDIS_PREFIX",
        default_value = "authx:",
        global = true
    )]
    pub(crate) redis_prefix: String,
    /// Production mode: refuses weak or missing secrets, insecure cookies
    /// and demo users.
    #[arg(long, env = "AUTHX_PRODUCTION", global = true)]
    pub(crate) production: bool,
    /// File holding the HMAC secret (instead of JWT_SECRET_KEY).
    #[arg(long, env = "JWT_SECRET_KEY_FILE", global = true)]
    pub(crate) secret_file: Option<PathBuf>,
    /// PEM private key file, for ES256/EdDSA/RS*/PS* (JWT_ALGORITHM).
    #[arg(long, env = "JWT_PRIVATE_KEY_FILE", global = true)]
    pub(crate) private_key_file: Option<PathBuf>,
    /// PEM public key file (derived from the private key when absent).
    #[arg(long, env = "JWT_PUBLIC_KEY_FILE", global = true)]
    pub(crate) public_key_file: Option<PathBuf>,
    /// Create the seed's demo users (user1, user2) on first start.
    #[arg(long, env = "AUTHX_DEMO_USERS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub(crate) demo_users: bool,
    /// Access token lifetime, seconds.
    #[arg(
        long,
        env = "JWT_ACCESS_TOKEN_EXPIRES",
        default_value_t = 900,
        global = true
    )]
    pub(crate) access_ttl: u64,
    /// Refresh token (and session) lifetime, seconds (default 14 days).
    #[arg(long, env = "JWT_REFRESH_TOKEN_EXPIRES", default_value_t = 14 * 24 * 3600, global = true)]
    pub(crate) refresh_ttl: u64,
    /// Grace window for concurrent refreshes of one token, milliseconds: a
    /// replay of the retired token less than this long after its rotation
    /// gets the successor, a later one revokes the session (0: no window).
    #[arg(
        long,
        env = "AUTHX_REFRESH_GRACE_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub(crate) refresh_grace_ms: u64,
    /// Check every access token against the store (revoked by logout,
    /// session end, "log out everywhere"); costs one store lookup per call.
    #[arg(long, env = "AUTHX_REVOKE_ACCESS_TOKENS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub(crate) revoke_access_tokens: bool,
    /// `Secure` on cookies; default: on in production, off otherwise (the
    /// seed's http://localhost development setting).
    #[arg(long, env = "JWT_COOKIE_SECURE", action = clap::ArgAction::Set, global = true)]
    pub(crate) cookie_secure: Option<bool>,
    /// Login attempts per client address per minute (0: unlimited).
    #[arg(
        long,
        env = "AUTHX_LOGIN_RATE_PER_IP",
        default_value_t = 30,
        global = true
    )]
    pub(crate) login_rate_per_ip: u32,
    /// Login attempts per username per minute (0: unlimited).
    #[arg(
        long,
        env = "AUTHX_LOGIN_RATE_PER_USER",
        default_value_t = 10,
        global = true
    )]
    pub(crate) login_rate_per_user: u32,
    /// Largest request body, bytes.
    #[arg(long, env = "AUTHX_MAX_BODY_BYTES", default_value_t = 16 * 1024, global = true)]
    pub(crate) max_body_bytes: usize,
    /// Largest total size of the request headers, bytes (431 above it).
    #[arg(long, env = "AUTHX_MAX_HEADER_BYTES", default_value_t = 16 * 1024, global = true)]
    pub(crate) max_header_bytes: usize,
    /// Seconds a client has to send a request's headers before the
    /// connection is closed (at least 1).
    #[arg(
        long,
        env = "AUTHX_HEADER_READ_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub(crate) header_read_timeout_secs: u64,
    /// Seconds a client has to send a request body it announced (at least
    /// 1); a slower one gets 408 and the connection is closed.
    #[arg(
        long,
        env = "AUTHX_BODY_READ_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub(crate) body_read_timeout_secs: u64,
    /// Connections served at once (1 to 1048576); further clients wait in
    /// the listen queue until one closes, so a connection flood cannot
    /// exhaust the process's file descriptors. At start-up the open-file
    /// limit is raised as far as allowed and the cap lowered to fit it.
    #[arg(
        long,
        env = "AUTHX_MAX_CONNECTIONS",
        default_value_t = 8192,
        value_parser = clap::value_parser!(u32).range(1..=1_048_576),
        global = true
    )]
    pub(crate) max_connections: u32,
    /// Access tokens kept after they verified, so the next request with
    /// the same token skips the signature check (0: off). Expiry, type and
    /// revocation are still checked on every request; about 1 KB each.
    #[arg(
        long,
        env = "AUTHX_VERIFIED_TOKEN_CACHE",
        default_value_t = 4096,
        global = true
    )]
    pub(crate) verified_token_cache: usize,
    /// Origins allowed to call the API from a browser with credentials
    /// (comma-separated, exact).
    #[arg(long, env = "AUTHX_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub(crate) cors_origins: Vec<String>,
    /// Take the client address from the first X-Forwarded-For entry (only
    /// behind a proxy that sets it).
    #[arg(long, env = "AUTHX_TRUST_FORWARDED_FOR", global = true)]
    pub(crate) trust_forwarded_for: bool,
    /// Threads serving HTTP requests, each with its own connections
    /// (0: one per CPU less one, at least one; the main thread accepts
    /// connections and runs the Redis connection and housekeeping).
    #[arg(long, env = "AUTHX_HTTP_WORKERS", default_value_t = 0, global = true)]
    pub(crate) http_workers: usize,
    /// Milliseconds log lines may wait in memory before they are written
    /// (batched: one write for many lines; warnings, errors and exit
    /// flush at once). 0 writes every line as it is logged.
    #[arg(long, env = "AUTHX_LOG_FLUSH_MS", default_value_t = 100, global = true)]
    pub(crate) log_flush_ms: u64,
    /// Log format: text or json.
    #[arg(long, env = "AUTHX_LOG_FORMAT", default_value = "text", global = true)]
    pub(crate) log_format: String,
    /// Argon2 memory cost in KiB (OWASP: 19456).
    #[arg(
        long,
        env = "AUTHX_ARGON2_MEMORY_KIB",
        default_value_t = 19_456,
        global = true
    )]
    pub(crate) argon2_memory_kib: u32,
    /// Argon2 iterations (OWASP: 2).
    #[arg(
        long,
        env = "AUTHX_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub(crate) argon2_iterations: u32,
}

impl ServeArgs {
    pub(crate) fn listen_addr(&self) -> SocketAddr {
        self.bind
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], self.port)))
    }
}
