//! Limits that keep a hostile workload or a runaway guardrail from exhausting the machine.
//! Every limit, its default and what happens when it is hit is documented in `docs/limits.md`.
//!
//! The limits are built once from the command line (global flags with environment
//! fallbacks, see `cli.rs`) into a [`RunSettings`] value that is passed down to where they
//! apply: reading a workload (`ReadLimits::for_workload`), building its input
//! (`max_resources`), parsing (`parse_timeout`) and evaluating a policy (`eval_timeout`,
//! `eval_memory`, `max_findings`). A value rather than process-wide state: two runs in one
//! process (tests, the library) never see each other's settings, and a reader sees where a
//! limit comes from.

use std::time::Duration;

/// The configurable limits of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest workload file read; a larger one is an error for the workload.
    pub max_file_bytes: u64,
    /// Most bytes read from one workload; files past it are errors for the workload.
    pub max_workload_bytes: u64,
    /// Most resources one workload may have; more makes the workload an error (unknown).
    pub max_resources: usize,
    /// Wall-clock time one policy evaluation may take.
    pub eval_timeout: Duration,
    /// Wall-clock time parsing one folder of a workload may take (Terraform's static
    /// evaluation of locals and `for` expressions can be made to run for ever).
    pub parse_timeout: Duration,
    /// Memory one policy evaluation (or the parsing of one folder) may add to the evaluating process; 0 turns the isolated
    /// evaluation off (policies then run in-process with the time budget only).
    pub eval_memory: u64,
    /// Most findings one guardrail may report on one workload; more is an error with the
    /// count (cut in the evaluating child, so the parent's memory and the ledger stay small).
    pub max_findings: usize,
}

pub const MIB: u64 = 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 8 * MIB,
            max_workload_bytes: 512 * MIB,
            max_resources: 50_000,
            eval_timeout: Duration::from_secs(10),
            parse_timeout: Duration::from_secs(60),
            eval_memory: 1024 * MIB,
            max_findings: 10_000,
        }
    }
}

/// What one evaluation of a workload may use: the run's [`Limits`] and how many workers
/// (child processes, or threads inside one) it may run at once. Built in `cli.rs` and
/// passed down by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSettings {
    pub limits: Limits,
    /// Workers one workload's parsing and evaluation may use at once (at least 1): `check`
    /// evaluates a single workload and gives it every core; `observe` evaluates a workload
    /// per core, each with one.
    pub workers: usize,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            limits: Limits::default(),
            workers: 1,
        }
    }
}

impl RunSettings {
    /// These settings with `workers` workers (at least 1).
    pub fn with_workers(self, workers: usize) -> Self {
        RunSettings {
            workers: workers.max(1),
            ..self
        }
    }
}

/// A size or duration limit that does not parse (the value as given, quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLimit {
    #[error("`{0}` is not a size (examples: 8MiB, 512M, 1G, 65536)")]
    NotASize(String),
    #[error("`{input}`: unknown size unit `{unit}` (use B, KiB, MiB, GiB)")]
    SizeUnit { input: String, unit: String },
    #[error("`{0}` is out of range")]
    SizeRange(String),
    #[error("`{0}` is not a duration (examples: 500ms, 10s, 2m)")]
    NotADuration(String),
    #[error("`{input}`: unknown duration unit `{unit}` (use ms, s, m)")]
    DurationUnit { input: String, unit: String },
    #[error("`{0}` must be more than 0 and at most a day")]
    DurationRange(String),
}

/// Parses a size: a number of bytes with an optional unit (`512`, `8MiB`, `8M`, `1.5GB`, `64k`).
/// Units are binary (`k`/`KiB` = 1024 bytes).
pub fn parse_size(s: &str) -> Result<u64, BadLimit> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let n: f64 = num.parse().map_err(|_| BadLimit::NotASize(s.to_string()))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => MIB,
        "g" | "gb" | "gib" => 1024 * MIB,
        "t" | "tb" | "tib" => 1024 * 1024 * MIB,
        _ => {
            return Err(BadLimit::SizeUnit {
                input: s.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    let bytes = n * mult as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(BadLimit::SizeRange(s.to_string()));
    }
    Ok(bytes as u64)
}

/// Parses a duration: a number with a unit (`500ms`, `10s`, `2m`); a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, BadLimit> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = (&t[..split], t[split..].trim());
    let n: f64 = num.parse().map_err(|_| BadLimit::NotADuration(s.to_string()))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" | "min" => n * 60.0,
        _ => {
            return Err(BadLimit::DurationUnit {
                input: s.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(BadLimit::DurationRange(s.to_string()));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A size for messages: `8 MiB`, `300 MiB`, `1234 bytes`.
pub fn show_size(bytes: u64) -> String {
    if bytes >= 1024 * MIB && bytes.is_multiple_of(1024 * MIB) {
        format!("{} GiB", bytes / (1024 * MIB))
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// A duration for messages: `10s`, `1.5s`, `250ms`.
pub fn show_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("8MiB"), Ok(8 * MIB));
        assert_eq!(parse_size("8m"), Ok(8 * MIB));
        assert_eq!(parse_size("1.5G"), Ok(1536 * MIB));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64 KiB"), Ok(65536));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(show_size(8 * MIB), "8 MiB");
        assert_eq!(show_size(300 * MIB), "300 MiB");
        assert_eq!(show_size(1000), "1000 bytes");
        assert_eq!(show_duration(Duration::from_secs(10)), "10s");
        assert_eq!(show_duration(Duration::from_millis(250)), "250ms");
    }
}
