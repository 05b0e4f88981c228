//! Prometheus metrics: logins, failures by reason, refreshes, reuse
//! detections, revocations, request latency.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) logins: IntCounterVec,
    pub(crate) auth_failures: IntCounterVec,
    pub(crate) refreshes: IntCounter,
    pub(crate) reuse_detections: IntCounter,
    pub(crate) revocations: IntCounterVec,
    pub(crate) latency: HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub(crate) fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let logins = IntCounterVec::new(
            Opts::new("authx_logins_total", "Login attempts by result"),
            &["result"],
        )?;
        let auth_failures = IntCounterVec::new(
            Opts::new(
                "authx_auth_failures_total",
                "Refused credentials by reason (error_type)",
            ),
            &["reason"],
        )?;
        let refreshes = IntCounter::new("authx_refreshes_total", "Successful refreshes")?;
        let reuse_detections = IntCounter::new(
            "authx_refresh_reuse_detections_total",
            "Replays of rotated refresh tokens",
        )?;
        let revocations = IntCounterVec::new(
            Opts::new("authx_revocations_total", "Sessions ended, by cause"),
            &["cause"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("authx_request_duration_seconds", "Request latency").buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
            ]),
            &["method", "route", "status"],
        )?;
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(auth_failures.clone()))?;
        registry.register(Box::new(refreshes.clone()))?;
        registry.register(Box::new(reuse_detections.clone()))?;
        registry.register(Box::new(revocations.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Self {
            registry,
            logins,
            auth_failures,
            refreshes,
            reuse_detections,
            revocations,
            latency,
        })
    }

    pub(crate) fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for these metric types.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    }
}
