//! Group commit for rotations, shared by the SQLite and Redis stores.
//!
//! The first rotation of a batch yields once (a Tokio yield resumes after
//! the runtime has polled for I/O), so the requests that are ready at the
//! same moment run first and add their rotations; then the batch is
//! committed at once, the rotations one after the other in arrival order,
//! each seeing the ones before it. Nothing else is waited for.

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
/// leads the batch (and so must commit it).
pub(crate) struct Queued {
    pub(crate) outcome: oneshot::Receiver<Result<Rotation>>,
    pub(crate) leads: bool,
}

impl RotationBatch {
    /// Queues a rotation.
    pub(crate) fn join(
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

/// Waits for a queued rotation's outcome.
pub(crate) async fn outcome(
    outcome: oneshot::Receiver<Result<Rotation>>,
    error: impl Fn(&str) -> Error,
) -> Result<Rotation> {
    outcome
        .await
        .map_err(|_| error("the rotation batch was dropped"))?
}
