//! Log lines written to stderr in batches.
//!
//! The server logs one line per login, refresh and logout (S9). Written
//! one `write(2)` per line, that was about 2.5 µs of a 50 µs refresh here
//! (BENCHMARKS.md). Lines are appended to a buffer instead, and the
//! buffer is written when it reaches [`FLUSH_AT`] bytes, when a warning or
//! error is logged (with everything before it, in order), every
//! `--log-flush-ms` by a background thread, and on exit or panic.
//!
//! Written here rather than with `tracing-appender`: its non-blocking
//! writer hands every line to a worker thread, which costs a wake-up per
//! line when the worker keeps up, and nothing in it flushes by time.

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Bytes buffered before a write is forced.
const FLUSH_AT: usize = 32 * 1024;

/// The buffer of the process's batched writer, for [`flush`].
static ACTIVE: OnceLock<Shared> = OnceLock::new();

#[derive(Default)]
struct Shared {
    buf: Mutex<Vec<u8>>,
}

impl Shared {
    fn append(&self, line: &[u8], urgent: bool) {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        buf.extend_from_slice(line);
        if urgent || buf.len() >= FLUSH_AT {
            write_out(&mut buf);
        }
    }

    fn flush(&self) {
        write_out(&mut self.buf.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

/// Writes and empties `buf` (held locked, so lines keep their order). A
/// failed write drops the lines: there is nowhere left to report it, and
/// the buffer must stay bounded.
fn write_out(buf: &mut Vec<u8>) {
    if !buf.is_empty() {
        let _ = io::stderr().lock().write_all(buf);
        buf.clear();
    }
}

/// A [`MakeWriter`] for stderr that batches lines (see the module docs);
/// `tracing_subscriber::fmt().with_writer(BatchedStderr::start(every))`.
#[derive(Clone, Copy)]
pub(crate) struct BatchedStderr {
    shared: &'static Shared,
}

impl BatchedStderr {
    /// A batched writer, flushed every `every` by a background thread, on
    /// panic and by [`flush`].
    ///
    /// # Errors
    /// When the flushing thread cannot be started.
    pub(crate) fn start(every: Duration) -> io::Result<Self> {
        std::thread::Builder::new()
            .name("authx-log".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    flush();
                }
            })?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            flush();
            previous(info);
        }));
        Ok(Self {
            shared: ACTIVE.get_or_init(Shared::default),
        })
    }
}

/// Writes whatever the batched writer holds; a no-op without one.
pub(crate) fn flush() {
    if let Some(shared) = ACTIVE.get() {
        shared.flush();
    }
}

/// Warnings and errors go out at once, with the lines before them (more
/// verbose levels compare greater).
fn is_urgent(level: Level) -> bool {
    level <= Level::WARN
}

/// One event's output: the formatter writes a whole line at once.
pub(crate) struct LineSink<'a> {
    shared: &'a Shared,
    urgent: bool,
}

impl Write for LineSink<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.shared.append(line, self.urgent);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = LineSink<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineSink {
            shared: self.shared,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineSink {
            shared: self.shared,
            urgent: is_urgent(*meta.level()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_stay_whole_and_in_order_and_the_buffer_is_bounded() {
        let shared = Shared::default();
        for i in 0..10_000 {
            shared.append(format!("line {i}\n").as_bytes(), false);
            let held = shared.buf.lock().map(|b| b.len()).unwrap_or(usize::MAX);
            assert!(held < FLUSH_AT, "{held} bytes held");
        }
        shared.append(b"urgent\n", true);
        assert_eq!(shared.buf.lock().map(|b| b.len()).ok(), Some(0));
    }

    #[test]
    fn warnings_and_errors_are_urgent_info_and_debug_are_batched() {
        assert!(is_urgent(Level::ERROR));
        assert!(is_urgent(Level::WARN));
        assert!(!is_urgent(Level::INFO));
        assert!(!is_urgent(Level::DEBUG));
    }
}
