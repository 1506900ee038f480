//! The progress line: once a second on stderr, what has been sent and what came back. On a
//! terminal it rewrites one line; otherwise (CI logs) it prints one line per second.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters the connection tasks bump and the progress line reads.
#[derive(Debug, Default)]
pub struct Progress {
    sent: AtomicU64,
    success: AtomicU64,
    other: AtomicU64,
    failed: AtomicU64,
}

/// What the progress line shows, captured at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub sent: u64,
    pub success: u64,
    pub other: u64,
    pub failed: u64,
}

// === impl Progress ===

impl Progress {
    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a response: 2xx as success, anything else as other.
    pub fn answered(&self, status: u16) {
        let counter = if (200..300).contains(&status) { &self.success } else { &self.other };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            sent: self.sent.load(Ordering::Relaxed),
            success: self.success.load(Ordering::Relaxed),
            other: self.other.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// Prints the line every second until the returned task is aborted.
    pub fn spawn_printer(
        self: &Arc<Self>,
        label: String,
        planned: u64,
    ) -> tokio::task::JoinHandle<()> {
        let progress = Arc::clone(self);
        tokio::spawn(async move {
            let start = Instant::now();
            let mut last = progress.snapshot();
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let now = progress.snapshot();
                let line = render(&label, start.elapsed(), planned, now, now.sent - last.sent);
                print_line(&line, false);
                last = now;
            }
        })
    }
}

/// Prints the last line, ending a rewritten terminal line.
pub fn finish(label: &str, elapsed: Duration, planned: u64, snapshot: Snapshot) {
    let rate = snapshot.sent as f64 / elapsed.as_secs_f64().max(1e-9);
    print_line(&render(label, elapsed, planned, snapshot, rate.round() as u64), true);
}

/// One progress line.
pub fn render(label: &str, elapsed: Duration, planned: u64, now: Snapshot, rate: u64) -> String {
    format!(
        "{label} {:>6.1}s  sent {}/{planned}  2xx {}  other {}  failed {}  {rate} req/s",
        elapsed.as_secs_f64(),
        now.sent,
        now.success,
        now.other,
        now.failed,
    )
}

fn print_line(line: &str, last: bool) {
    let mut stderr = std::io::stderr().lock();
    // Progress output is best effort: a closed stderr must not stop the run.
    let _ = if stderr.is_terminal() {
        write!(stderr, "\r\x1b[2K{line}{}", if last { "\n" } else { "" })
    } else {
        writeln!(stderr, "{line}")
    };
    let _ = stderr.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let progress = Progress::default();
        progress.sent();
        progress.sent();
        progress.answered(200);
        progress.answered(429);
        progress.failed();
        let snapshot = progress.snapshot();
        assert_eq!(snapshot, Snapshot { sent: 2, success: 1, other: 1, failed: 1 });
        let line = render("steady", Duration::from_millis(1500), 10, snapshot, 2);
        assert_eq!(line, "steady    1.5s  sent 2/10  2xx 1  other 1  failed 1  2 req/s");
    }
}
