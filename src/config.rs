//! Errors in the files people write by hand (`guardrail.toml`, `exceptions.toml`,
//! `workloads.toml`, `policy.rego`): always with the file and line, so the fix is one jump away.
//! [`line_of`] is here, at the bottom of the layers, for every loader and parser to share.

/// A configuration file that is wrong, with where and what.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.into(),
            line,
            message: message.into(),
        }
    }
}

/// The text of a hand-written file, refused when it is not UTF-8 (never lossily replaced: a
/// replaced byte could change what a policy or a waiver means). The error names the line of
/// the first invalid byte.
pub fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, ConfigError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        let column = at - bytes[..at].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        ConfigError::new(
            file,
            line,
            format!(
                "not valid UTF-8 (byte {:#04x} at column {column}); save the file as UTF-8",
                bytes[at]
            ),
        )
    })
}

/// Reads a TOML file into `T`, turning serde's error into one that names file and line.
pub fn from_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        ConfigError::new(file, line, e.message().trim_end().to_string())
    })
}

/// The line on which `key = ` is first written in a TOML text (1 when not found), to point
/// validation errors that serde cannot see at the right line.
pub fn line_of_key(text: &str, key: &str, after_line: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(after_line.saturating_sub(1))
        .find(|(_, l)| {
            let t = l.trim_start();
            t.starts_with(key) && t[key.len()..].trim_start().starts_with('=')
        })
        .map(|(i, _)| i + 1)
        .unwrap_or(after_line.max(1))
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
