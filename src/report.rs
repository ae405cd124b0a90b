//! What a command prints and how it exits: the one value every mode and command returns to
//! `main`, which alone prints it.

use crate::exit::Exit;

/// What a run prints and how it exits.
pub struct Report {
    /// Everything for stdout: these parts, one after the other (large outputs are written in
    /// parallel parts and never joined into one copy).
    pub stdout: Vec<String>,
    /// Lines for stderr (errors and warnings, sorted).
    pub messages: Vec<String>,
    /// Exit code.
    pub exit: Exit,
}

impl std::fmt::Debug for Report {
    /// Sizes and the exit code only: stdout holds rendered Secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes: usize = self.stdout.iter().map(String::len).sum();
        f.debug_struct("Report")
            .field("stdout", &format_args!("<{bytes} bytes>"))
            .field("messages", &self.messages.len())
            .field("exit", &self.exit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_stdout() {
        let report = Report {
            stdout: vec!["data:\n  password: U0VOVElORUw=\n".into()],
            messages: vec!["warning: x".into()],
            exit: Exit::Success,
        };
        let shown = format!("{report:?}");
        assert!(!shown.contains("U0VOVElORUw"), "{shown}");
        assert!(shown.contains("bytes"), "{shown}");
    }
}
