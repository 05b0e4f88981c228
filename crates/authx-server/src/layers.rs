//! The two layers every request passes: the checks made before routing
//! (header size, `Host`, announced body size) and the latency histogram.
//!
//! Written as plain `tower` services rather than `axum::middleware::from_fn`:
//! a `from_fn` layer boxes its future and clones (boxes) the rest of the
//! stack on every request, which on `/healthz` was a tenth of the server's
//! own instructions. These keep the inner future inline.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method, StatusCode, Version, header};
use axum::response::Response;
use futures_util::future::Either;
use tower::{Layer, Service};

use prometheus::HistogramVec;

/// Refuses, before routing and with the seed's JSON error shape, requests
/// whose headers add up to more than `limit` bytes (431, H8), HTTP/1.1
/// requests without exactly one `Host` (400), and requests that announce a
/// body larger than `max_body` bytes (413). A body without
/// `Content-Length` is limited while it is read (`RequestBodyLimitLayer`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestChecksLayer {
    pub(crate) limit: usize,
    pub(crate) max_body: usize,
}

impl<S> Layer<S> for RequestChecksLayer {
    type Service = RequestChecks<S>;
    fn layer(&self, inner: S) -> RequestChecks<S> {
        RequestChecks {
            inner,
            limit: self.limit,
            max_body: self.max_body,
        }
    }
}

/// The service of [`RequestChecksLayer`].
#[derive(Debug, Clone)]
pub(crate) struct RequestChecks<S> {
    inner: S,
    limit: usize,
    max_body: usize,
}

impl<S> Service<Request> for RequestChecks<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let size: usize = request
            .headers()
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 4)
            .sum();
        if size > self.limit {
            return Either::Left(ready(Ok(crate::app::detail(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Request header fields too large",
            ))));
        }
        // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host header;
        // hyper leaves the check to the application. Two could route a
        // request one way and build its links (or cache key) another.
        if request.version() == Version::HTTP_11 {
            let mut hosts = request.headers().get_all(header::HOST).iter();
            if hosts.next().is_none() || hosts.next().is_some() {
                let mut res = crate::app::detail(
                    StatusCode::BAD_REQUEST,
                    "An HTTP/1.1 request needs exactly one Host header",
                );
                res.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                return Either::Left(ready(Ok(res)));
            }
        }
        // hyper has already refused a malformed or repeated Content-Length.
        let announced = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > self.max_body as u64) {
            let mut res =
                crate::app::detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large");
            // The body is not read: the connection cannot be reused.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Either::Left(ready(Ok(res)));
        }
        Either::Right(self.inner.call(request))
    }
}

/// Records each routed request's latency by method, route template (never
/// the raw path: no ids in labels) and status.
#[derive(Debug, Clone)]
pub(crate) struct ObserveLayer {
    pub(crate) latency: HistogramVec,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            latency: self.latency.clone(),
        }
    }
}

/// The service of [`ObserveLayer`].
#[derive(Debug, Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    latency: HistogramVec,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = request.method().clone();
        let route = request.extensions().get::<MatchedPath>().cloned();
        ObserveFuture {
            inner: self.inner.call(request),
            start: Instant::now(),
            method,
            route,
            latency: self.latency.clone(),
        }
    }
}

/// The method as a label: the standard ones by name, any other as
/// `other`, so clients cannot add label values (and series) at will.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The future of [`Observe`]: the inner future, then one histogram sample.
#[derive(Debug)]
pub(crate) struct ObserveFuture<F> {
    inner: F,
    start: Instant,
    method: Method,
    route: Option<MatchedPath>,
    latency: HistogramVec,
}

impl<F> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is `Unpin` (the bound on `F`), so the future is too.
        let this = self.get_mut();
        let Poll::Ready(Ok(response)) = Pin::new(&mut this.inner).poll(cx) else {
            return Poll::Pending;
        };
        let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        this.latency
            .with_label_values(&[
                method_label(&this.method),
                route,
                response.status().as_str(),
            ])
            .observe(this.start.elapsed().as_secs_f64());
        Poll::Ready(Ok(response))
    }
}
