//! Progress on stderr during long work (`observe` fetching and evaluating the fleet).
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
    let template = format!("{verb} {{pos}}/{{len}} {what} [{{bar:30}}] {{per_sec}}, ETA {{eta}} {{wide_msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    // Ticks keep the ETA moving while one slow workload is fetched.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
