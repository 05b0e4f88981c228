//! `authx-server`: the seed's dual-token-location service, production-ready.

mod app;
mod layers;
mod logbuf;
mod metrics;
mod openapi;
mod ratelimit;
mod serve;
mod settings;
mod users;
mod web;

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use authx::sessions::Sessions;
use authx::store::{RedisStore, SqliteStore, TokenStore};
use authx::{Algorithm, AuthX, AuthXConfig, TokenLocation};
use axum::http::HeaderValue;
use clap::Parser;

use crate::app::{AppState, HttpLimits};
use crate::settings::{Cli, Command, ServeArgs, TokenAction, UserAction};
use crate::users::Users;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

// hyper, routing and JSON allocate on every request; glibc's malloc/free
// were several per cent of the server's samples, and mimalloc's
// thread-local free lists (with fat LTO) took about 1 µs of CPU off each
// request here (BENCHMARKS.md, "What changed").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Only the server batches its log lines; the other commands are short
    // and write each line at once.
    let batch = match cli.command {
        None | Some(Command::Serve) if cli.serve.log_flush_ms > 0 => {
            Some(Duration::from_millis(cli.serve.log_flush_ms))
        }
        _ => None,
    };
    init_tracing(&cli.serve.log_format, batch);
    let result = match cli.command {
        None | Some(Command::Serve) => serve(cli.serve),
        Some(Command::User { action }) => user_command(&cli.serve, action),
        Some(Command::Keygen { algorithm, out }) => keygen(&algorithm, out.as_deref()),
        Some(Command::Token {
            action: TokenAction::Decode { token },
        }) => decode(&cli.serve, &token),
    };
    logbuf::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: &str, batch: Option<Duration>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal());
    // Without a flushing thread, every line is written as it comes.
    let batched = batch.and_then(|every| logbuf::BatchedStderr::start(every).ok());
    match (format == "json", batched) {
        (true, Some(writer)) => builder.json().with_writer(writer).init(),
        (true, None) => builder.json().with_writer(std::io::stderr).init(),
        (false, Some(writer)) => builder.with_writer(writer).init(),
        (false, None) => builder.with_writer(std::io::stderr).init(),
    }
}

/// The secret or keys, from flags, files or `JWT_*`; in development
/// without any, a secret kept beside the database (mode 0600) so restarts
/// don't log everyone out.
fn key_material(args: &ServeArgs, config: &mut AuthXConfig) -> Result<(), BoxError> {
    if let Some(path) = &args.secret_file {
        config.secret_key = Some(std::fs::read_to_string(path)?.trim().to_owned().into());
    }
    if let Some(path) = &args.private_key_file {
        config.private_key = Some(std::fs::read_to_string(path)?.into());
    }
    if let Some(path) = &args.public_key_file {
        config.public_key = Some(std::fs::read_to_string(path)?);
    }
    let has_key = if config.algorithm.is_hmac() {
        config.secret_key.is_some()
    } else {
        config.private_key.is_some()
    };
    if has_key {
        return Ok(());
    }
    if args.production {
        return Err(
            "production mode needs JWT_SECRET_KEY (or --secret-file, or a private key file)".into(),
        );
    }
    if !config.algorithm.is_hmac() {
        return Err(format!("algorithm {} needs --private-key-file", config.algorithm).into());
    }
    let path = secret_path(&args.database);
    let secret = match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().to_owned(),
        Err(_) => {
            let s = authx::keys::generate_secret();
            write_private(&path, &s)?;
            tracing::warn!(path = %path.display(), "no JWT_SECRET_KEY: generated a development secret and saved it (mode 0600)");
            s
        }
    };
    config.secret_key = Some(secret.into());
    Ok(())
}

fn secret_path(database: &Path) -> PathBuf {
    let mut name = database
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".secret");
    database.with_file_name(name)
}

fn write_private(path: &Path, contents: &str) -> Result<(), BoxError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path)?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

/// The token configuration: AuthX's `JWT_*` variables over the server's
/// defaults (the seed's settings, 14-day refresh tokens).
fn auth_config(args: &ServeArgs) -> Result<AuthXConfig, BoxError> {
    let mut config = AuthXConfig::from_env()?;
    if std::env::var_os("JWT_TOKEN_LOCATION").is_none() {
        config.token_location = vec![TokenLocation::Headers, TokenLocation::Cookies];
    }
    config.access_token_expires = Duration::from_secs(args.access_ttl);
    config.refresh_token_expires = Duration::from_secs(args.refresh_ttl);
    config.cookie_secure = args.cookie_secure.unwrap_or(args.production);
    if args.production {
        if !config.cookie_secure {
            return Err("production mode refuses JWT_COOKIE_SECURE=false".into());
        }
        if config.dangerous_allow_weak_secret {
            return Err("production mode refuses AUTHX_DANGEROUS_ALLOW_WEAK_SECRET".into());
        }
        if args.demo_users {
            return Err("production mode refuses demo users: set AUTHX_DEMO_USERS=false".into());
        }
        if !users::argon2_cost_is_strong(args.argon2_memory_kib, args.argon2_iterations) {
            return Err(format!(
                "production mode refuses argon2 costs below OWASP's recommendation: with \
                 AUTHX_ARGON2_ITERATIONS={} it needs AUTHX_ARGON2_MEMORY_KIB >= {} (47104 for 1 \
                 iteration, 19456 for 2, 12288 for 3, 9216 for 4, 7168 for 5 or more; the \
                 default is 19456 with 2)",
                args.argon2_iterations,
                users::min_argon2_memory_kib(args.argon2_iterations).map_or_else(
                    || "(none: at least 1 iteration)".to_owned(),
                    |m| m.to_string()
                ),
            )
            .into());
        }
    } else if config.dangerous_allow_weak_secret {
        tracing::warn!(
            "AUTHX_DANGEROUS_ALLOW_WEAK_SECRET is on: weak secrets are accepted (development only)"
        );
    }
    Ok(config)
}

pub(crate) struct Built {
    pub(crate) state: AppState,
    pub(crate) limits: HttpLimits,
}

fn build(args: &ServeArgs) -> Result<Built, BoxError> {
    let users = Users::open(
        &args.database,
        args.argon2_memory_kib,
        args.argon2_iterations,
    )?;
    let mut config = auth_config(args)?;
    key_material(args, &mut config)?;
    if args.demo_users && users.count()? == 0 && users.meta("demo_users_created")?.is_none() {
        users.add("user1", Some("user1@example.com"), "password1")?;
        users.add("user2", Some("user2@example.com"), "password2")?;
        users.set_meta("demo_users_created", "1")?;
        tracing::warn!(
            "created the demo users user1 and user2 with the seed's passwords (disable with AUTHX_DEMO_USERS=false)"
        );
    }
    let store = token_store(args)?;
    let builder = AuthX::builder(config)
        .error_body(app::error_body)
        .verified_token_cache(args.verified_token_cache);
    let sessions = Sessions::install_with(builder, store, args.revoke_access_tokens)?
        .with_grace(Duration::from_millis(args.refresh_grace_ms));
    let cors_origins = args
        .cors_origins
        .iter()
        .filter(|o| !o.is_empty())
        .map(|o| {
            HeaderValue::from_str(o)
                .map_err(|_| format!("AUTHX_CORS_ORIGINS: {o:?} is not a valid origin"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let state = AppState(Arc::new(app::AppInner {
        auth: sessions.auth().clone(),
        sessions,
        users,
        limiter: ratelimit::LoginLimiter::new(args.login_rate_per_ip, args.login_rate_per_user),
        metrics: metrics::Metrics::new()?,
        trust_forwarded_for: args.trust_forwarded_for,
        body_read_timeout: Duration::from_secs(args.body_read_timeout_secs.max(1)),
        hashing: Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
        )),
    }));
    Ok(Built {
        state,
        limits: HttpLimits {
            max_body_bytes: args.max_body_bytes,
            max_header_bytes: args.max_header_bytes,
            cors_origins,
        },
    })
}

/// The token store: Redis when `REDIS_URL` is set, else the SQLite file.
fn token_store(args: &ServeArgs) -> Result<Arc<dyn TokenStore>, BoxError> {
    Ok(match &args.redis_url {
        Some(url) => {
            tracing::info!("token store: Redis (shared by every instance)");
            Arc::new(RedisStore::connect(url, &args.redis_prefix)?)
        }
        None => {
            tracing::info!(database = %args.database.display(), "token store: SQLite");
            Arc::new(SqliteStore::open(&args.database)?)
        }
    })
}

fn serve(args: ServeArgs) -> Result<(), BoxError> {
    // The main thread's runtime runs start-up, housekeeping, the accept
    // loop and the Redis connection's driver; requests are served by
    // `--http-workers` threads, each with its own runtime (see `serve`).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let built = build(&args)?;
        let addr = args.listen_addr();
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let workers = match args.http_workers {
            // One core stays with the main thread (accepting, the Redis
            // connection, housekeeping) and the kernel's network work.
            0 => {
                std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
            }
            n => n,
        };
        let max_connections = connection_cap(args.max_connections);
        tracing::info!(
            %local,
            production = args.production,
            workers,
            max_connections,
            "listening"
        );
        logbuf::flush();
        // Tests and scripts read the bound port from this line.
        println!("listening on http://{local}");
        let limiter = built.state.limiter.clone();
        let store = built.state.sessions.store().clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limiter.housekeeping();
                let _ = store.purge_expired(users::now_ms()).await;
            }
        });
        let app = app::router(built.state, &built.limits);
        let options = serve::ServeOptions {
            workers,
            header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
            max_connections,
        };
        serve::serve(listener, app, options, shutdown()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// The connection cap that fits the process's open-file limit, raised
/// first as far as the system allows: each connection holds a descriptor,
/// and the database, Redis, the log and the listener need a few more.
fn connection_cap(wanted: u32) -> usize {
    const RESERVE: u64 = 64;
    let wanted = usize::try_from(wanted).unwrap_or(usize::MAX).max(1);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            let fits = usize::try_from(limit.saturating_sub(RESERVE))
                .unwrap_or(usize::MAX)
                .max(1);
            if wanted > fits {
                tracing::warn!(
                    max_connections = fits,
                    open_file_limit = limit,
                    "--max-connections lowered to fit the open-file limit (ulimit -n)"
                );
            }
            wanted.min(fits)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the open-file limit; keeping --max-connections");
            wanted
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

fn read_password() -> Result<String, BoxError> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err("passwords do not match".into());
        }
        first
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s.lines().next().unwrap_or_default().to_owned()
    };
    Ok(password)
}

fn user_command(args: &ServeArgs, action: UserAction) -> Result<(), BoxError> {
    let users = Users::open(
        &args.database,
        args.argon2_memory_kib,
        args.argon2_iterations,
    )?;
    match action {
        UserAction::Add { username, email } => {
            let password = read_password()?;
            users.add(&username, email.as_deref(), &password)?;
            println!("added {username}");
        }
        UserAction::Remove { username } => {
            if !users.remove(&username)? {
                return Err(format!("no user {username:?}").into());
            }
            end_sessions(args, &username)?;
            println!("removed {username} and ended their sessions");
        }
        UserAction::Passwd { username } => {
            if users.get(&username)?.is_none() {
                return Err(format!("no user {username:?}").into());
            }
            let password = read_password()?;
            users.set_password(&username, &password)?;
            // A new password signs out every device that used the old one.
            end_sessions(args, &username)?;
            println!("password changed for {username}; their sessions were ended");
        }
        UserAction::List => {
            for u in users.list()? {
                println!("{}\t{}", u.username, u.email.unwrap_or_default());
            }
        }
    }
    Ok(())
}

/// Ends every session of `username` and revokes every token issued to them
/// until now, in the configured token store.
fn end_sessions(args: &ServeArgs, username: &str) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let now = users::now_ms();
    let longest = i64::try_from(args.refresh_ttl.max(args.access_ttl)).unwrap_or(i64::MAX / 2_000);
    let until = now.saturating_add(longest.saturating_mul(1000));
    runtime.block_on(async {
        let store = token_store(args)?;
        store.revoke_subject_before(username, now, until).await?;
        store.revoke_families(username, now).await?;
        Ok::<_, BoxError>(())
    })
}

fn keygen(algorithm: &str, out: Option<&Path>) -> Result<(), BoxError> {
    let alg: Algorithm = algorithm.parse()?;
    if alg.is_hmac() {
        let secret = authx::keys::generate_secret();
        match out {
            Some(path) => {
                write_private(path, &secret)?;
                println!("wrote {}", path.display());
            }
            None => println!("{secret}"),
        }
        return Ok(());
    }
    let private = authx::keys::generate_pem(alg)?;
    let public = authx::keys::public_pem_from_private(alg, &private)?;
    match out {
        Some(path) => {
            write_private(path, &private)?;
            let mut pub_path = path.as_os_str().to_owned();
            pub_path.push(".pub");
            std::fs::write(&pub_path, &public)?;
            println!(
                "wrote {} and {}",
                path.display(),
                Path::new(&pub_path).display()
            );
        }
        None => print!("{private}{public}"),
    }
    Ok(())
}

fn decode(args: &ServeArgs, token: &str) -> Result<(), BoxError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not a compact JWS (three segments)".into());
    };
    let header: serde_json::Value = serde_json::from_slice(&b64.decode(h)?)?;
    let claims: serde_json::Value = serde_json::from_slice(&b64.decode(c)?)?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"header": header, "claims": claims}))?
    );
    let mut config = AuthXConfig::from_env()?;
    if let Some(alg) = header
        .get("alg")
        .and_then(|a| a.as_str())
        .and_then(|a| a.parse::<Algorithm>().ok())
    {
        config.algorithm = alg;
    }
    // The given key is the one this token names.
    if let Some(kid) = header.get("kid").and_then(|k| k.as_str()) {
        config.kid = Some(kid.to_owned());
    }
    if let Some(path) = &args.secret_file {
        config.secret_key = Some(std::fs::read_to_string(path)?.trim().to_owned().into());
    }
    if let Some(path) = &args.public_key_file {
        config.public_key = Some(std::fs::read_to_string(path)?);
    }
    if config.secret_key.is_none() && config.public_key.is_none() && config.private_key.is_none() {
        println!("not verified (no key given)");
        return Ok(());
    }
    config.token_location = vec![TokenLocation::Headers, TokenLocation::Cookies];
    match AuthX::new(config)?.verify_jwt(token) {
        Ok(_) => println!("verified: signature and time claims are valid"),
        Err(e) => println!("NOT valid: {} ({})", e.message(), e.error_type()),
    }
    Ok(())
}
