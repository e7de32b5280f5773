//! Progress on stderr during long work (`observe` fetching, then evaluating the fleet).
//! Drawn only when stderr is a terminal (indicatif checks), never with `--quiet`; it never
//! touches stdout, so piped or redirected data stays clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether progress may be drawn in this process (the CLI sets it from `--quiet`; library
/// callers such as the benchmark get none).
pub fn configure(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// A bar over `len` items called `what` ("workloads"), with the rate and the time left;
/// hidden when progress is off or stderr is not a terminal.
pub fn bar(len: u64, verb: &str, what: &str) -> ProgressBar {
    if !ENABLED.load(Ordering::Relaxed) || len == 0 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{verb} {{pos}}/{{len}} {what} [{{bar:30}}] {{per_sec}}, ETA {{eta}} {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    // Ticks keep the ETA moving while one slow workload is fetched.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Ends `bar`: the bar is cleared and, when it was shown, one line says what was done and
/// how long it took (so the terminal keeps a record, not a half-drawn bar).
pub fn done(bar: &ProgressBar, what: &str) {
    let shown = !bar.is_hidden();
    let (n, secs) = (bar.position(), bar.elapsed().as_secs_f64());
    bar.finish_and_clear();
    if shown {
        let rate = if secs > 0.0 { n as f64 / secs } else { 0.0 };
        eprintln!("{what} {n} in {secs:.1}s ({rate:.1}/s)");
    }
}
