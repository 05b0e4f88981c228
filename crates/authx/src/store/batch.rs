//! Group commit for rotations, shared by the SQLite and Redis stores.
//!
//! The first rotation of a batch starts a task that yields once (a Tokio
//! yield resumes after the runtime has polled for I/O), so the requests
//! that are ready at the same moment run first and add their rotations;
//! then the task commits the batch, the rotations one after the other in
//! arrival order, each seeing the ones before it. Nothing else is waited
//! for. The commit runs in its own task so that a request dropped while it
//! waits (a client gone) neither strands the rotations that joined its
//! batch nor cuts their commit short.

use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

use super::Rotation;
use crate::error::{Error, Result};

/// One rotation waiting in a batch, and where its outcome goes.
pub(crate) struct RotateJob {
    pub(crate) family_id: String,
    pub(crate) presented: String,
    pub(crate) new: String,
    pub(crate) now_ms: i64,
    pub(crate) grace_ms: i64,
    reply: oneshot::Sender<Result<Rotation>>,
}

/// The rotations waiting for the batch they will be committed in.
#[derive(Default)]
pub(crate) struct RotationBatch {
    pending: Mutex<Vec<RotateJob>>,
}

/// Where a queued rotation's outcome arrives, and whether its caller
/// leads the batch (and so must have it committed).
struct Queued {
    outcome: oneshot::Receiver<Result<Rotation>>,
    leads: bool,
}

/// Queues a rotation in `batch` and waits for its outcome. The first
/// rotation of a batch has `commit` run (it takes the batch with
/// [`RotationBatch::take`]) in a task of its own, after one yield; outside
/// a Tokio runtime, at once.
pub(crate) async fn rotate<C, F>(
    batch: &RotationBatch,
    job: (&str, &str, &str, i64, i64),
    commit: C,
    error: impl Fn(&str) -> Error,
) -> Result<Rotation>
where
    C: FnOnce() -> F,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (family_id, presented, new, now_ms, grace_ms) = job;
    let queued = batch.join(family_id, presented, new, now_ms, grace_ms);
    if queued.leads {
        let commit = commit();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move {
                tokio::task::yield_now().await;
                commit.await;
            })),
            Err(_) => commit.await,
        }
    }
    queued
        .outcome
        .await
        .map_err(|_| error("the rotation batch was dropped"))?
}

impl RotationBatch {
    /// Queues a rotation.
    fn join(
        &self,
        family_id: &str,
        presented: &str,
        new: &str,
        now_ms: i64,
        grace_ms: i64,
    ) -> Queued {
        let (reply, outcome) = oneshot::channel();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.push(RotateJob {
            family_id: family_id.to_owned(),
            presented: presented.to_owned(),
            new: new.to_owned(),
            now_ms,
            grace_ms,
            reply,
        });
        Queued {
            outcome,
            leads: pending.len() == 1,
        }
    }

    /// Takes the batch to commit; the next rotation starts a new one.
    pub(crate) fn take(&self) -> Vec<RotateJob> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Hands each rotation its outcome; when the batch failed, every rotation
/// in it fails (none was committed).
pub(crate) fn reply_all(
    jobs: Vec<RotateJob>,
    outcome: std::result::Result<Vec<Rotation>, String>,
    error: impl Fn(&str) -> Error,
) {
    match outcome {
        Ok(rotations) if rotations.len() == jobs.len() => {
            for (job, rotation) in jobs.into_iter().zip(rotations) {
                let _ = job.reply.send(Ok(rotation));
            }
        }
        Ok(_) => {
            for job in jobs {
                let _ = job
                    .reply
                    .send(Err(error("a batch reply of the wrong length")));
            }
        }
        Err(message) => {
            for job in jobs {
                let _ = job.reply.send(Err(error(&message)));
            }
        }
    }
}
