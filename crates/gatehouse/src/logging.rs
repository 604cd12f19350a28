//! Log output: text for a terminal, or one JSON object per line for a log collector. Either way every
//! line written while a request is answered carries that request's span (request id, method, route
//! pattern). The filter comes from `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;
use crate::log_writer::{self, LogGuard};

/// A subscriber writing to `writer` in `format`, filtered by `filter` (`RUST_LOG` syntax).
pub fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .finish(),
        ),
    }
}

/// Bytes of log lines that may wait for the writer thread: at 40,000 requests a second, about half a
/// second of access log. Past that, logging waits.
const MAX_PENDING_BYTES: usize = 4 << 20;

/// Installs the process-wide subscriber, writing to standard error (and passing on records of the
/// `log` crate that some libraries use). Keep the guard until the process ends: dropping it writes
/// out what is still waiting.
///
/// Lines are formatted on the thread that logs them and written by a thread of their own, in one
/// write for as many lines as gathered in a few milliseconds ([`crate::log_writer`]): a request never
/// waits for a write to standard error, and under load the access log costs one system call per
/// batch instead of one per request. Nothing is dropped: when [`MAX_PENDING_BYTES`] are waiting,
/// logging waits.
pub fn init(format: LogFormat) -> std::io::Result<LogGuard> {
    let (writer, guard) = log_writer::start(std::io::stderr(), MAX_PENDING_BYTES)?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; in a file or a journal they are escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    // A second call (a test that ran the CLI before) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    Ok(guard)
}
