//! Serving HTTP/1.1: one accept loop, and one single-threaded Tokio runtime
//! per worker thread, each owning the connections handed to it.
//!
//! Why not `axum::serve` on the multi-threaded runtime: that runtime moves
//! ready tasks between its workers and wakes an idle worker whenever one
//! has queued work, so under load most requests pay a futex wake-up and a
//! context switch besides their own socket reads and writes. Here a
//! connection lives on one thread from accept to close; a request costs
//! its `recv`, its `writev` and a share of one `epoll_wait`. On the 2-core
//! benchmark machine that took about a fifth off the server's CPU time per
//! request (BENCHMARKS.md). The trade-off: a connection cannot move to an
//! idle core, which matters little when connections are many and short
//! requests, as here.
//!
//! Everything `axum::serve` did for this service is kept: the client
//! address as `ConnectInfo<SocketAddr>`, `TCP_NODELAY`, accept errors that
//! do not stop the server, and a graceful shutdown that stops accepting,
//! lets in-flight requests finish and closes idle keep-alive connections.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tower::Service;

/// How long in-flight requests get to finish once shutdown starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeOptions {
    /// Worker threads (at least one is started).
    pub(crate) workers: usize,
    /// A client must send a request's headers within this time, or the
    /// connection is closed (slow-header clients would hold it otherwise).
    pub(crate) header_read_timeout: Duration,
    /// Connections open at once; the accept loop waits for one to close
    /// beyond that (at least 1).
    pub(crate) max_connections: usize,
}

/// A connection for a worker, with its place among the open connections
/// (released when the connection ends).
type Handoff = (std::net::TcpStream, SocketAddr, OwnedSemaphorePermit);

/// Serves `app` on `listener` with `options.workers` threads until `signal`
/// completes, then shuts down gracefully. Runs on the caller's runtime,
/// which keeps running tasks spawned on it (the Redis connection's driver,
/// housekeeping) until every worker has finished.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    signal: impl Future<Output = ()>,
) -> io::Result<()> {
    let workers = options.workers.max(1);
    let mut senders = Vec::with_capacity(workers);
    let mut finished = Vec::with_capacity(workers);
    for i in 0..workers {
        let (tx, rx) = mpsc::unbounded_channel::<Handoff>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let app = app.clone();
        std::thread::Builder::new()
            .name(format!("authx-http-{i}"))
            .spawn(move || {
                if let Err(e) = worker(rx, app, options.header_read_timeout) {
                    tracing::error!(error = %e, "HTTP worker could not start");
                }
                let _ = done_tx.send(());
            })?;
        senders.push(tx);
        finished.push(done_rx);
    }

    let mut signal = std::pin::pin!(signal);
    let mut next = 0usize;
    let max = options.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let open = Arc::new(Semaphore::new(max));
    let mut warned_at: Option<std::time::Instant> = None;
    loop {
        // At the limit, wait for a connection to close before accepting:
        // new clients wait in the listen queue instead of the process
        // running out of file descriptors.
        let permit = match Arc::clone(&open).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Said once a minute at most while the limit keeps biting.
                if warned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = max,
                        "connection limit reached; new connections wait"
                    );
                    warned_at = Some(std::time::Instant::now());
                }
                tokio::select! {
                    p = Arc::clone(&open).acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                    () = &mut signal => break,
                }
            }
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        match accepted {
            Ok((stream, addr)) => {
                // Deregistered from this runtime, still non-blocking; the
                // worker registers it with its own.
                let stream = match stream.into_std() {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(error = %e, "could not hand off a connection");
                        continue;
                    }
                };
                // Round robin; a worker whose thread is gone is skipped.
                let mut handoff = (stream, addr, permit);
                for _ in 0..workers {
                    let i = next;
                    next = (next + 1) % workers;
                    match senders[i].send(handoff) {
                        Ok(()) => break,
                        Err(mpsc::error::SendError(back)) => handoff = back,
                    }
                }
            }
            Err(e) => accept_error(e).await,
        }
    }
    drop(listener);
    // Closing the channels tells each worker to stop taking connections
    // and to shut its connections down gracefully.
    drop(senders);
    for done in finished {
        let _ = done.await;
    }
    Ok(())
}

/// One worker thread: a current-thread runtime serving the connections it
/// is handed until the channel closes.
fn worker(
    mut connections: mpsc::UnboundedReceiver<Handoff>,
    app: Router,
    header_read_timeout: Duration,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let graceful = GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout);
        while let Some((stream, addr, permit)) = connections.recv().await {
            let stream = match tokio::net::TcpStream::from_std(stream) {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "could not register a connection");
                    continue;
                }
            };
            // Responses go out in one write; Nagle would only delay them.
            let _ = stream.set_nodelay(true);
            let app = app.clone();
            let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(addr));
                let mut app = app.clone();
                async move {
                    let response = app.call(request).await;
                    Ok::<_, Infallible>(match response {
                        Ok(r) => r,
                        Err(never) => match never {},
                    })
                }
            });
            let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                drop(permit);
            });
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("connections still open after the shutdown grace period; closing them");
        }
    });
    Ok(())
}

/// Errors of one connection (reset before accept) are ignored; others (out
/// of file descriptors) are logged and followed by a pause, so a full
/// process table does not turn into a busy loop.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
