//! Exit codes, the same in every mode.

/// How the process ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Rendered (warnings may have been printed).
    Success = 0,
    /// Bad input or a failed run: nothing was rendered.
    Failure = 1,
    /// Bad command line (also clap's own code for usage errors).
    Usage = 2,
    /// `kubevault diff --fail-on-gain`: some user gains access to a secret.
    AccessGained = 3,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
