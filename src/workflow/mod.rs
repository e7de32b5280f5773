//! The workflows, one file each, each readable top to bottom in the words of DESIGN.md.

pub mod check;
pub mod test;

/// How a run ended; `main` maps it to the documented exit codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: nothing to report.
    Clean,
    /// 1: findings that fail the build (or fixtures that failed).
    Findings,
    /// 2: something could not be evaluated or configured; never read as compliant.
    Error,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Findings => 1,
            Outcome::Error => 2,
        }
    }
}
