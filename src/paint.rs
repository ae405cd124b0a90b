//! Terminal colour, the same in every command (`can-read`, `who-can-read`, `users`, `check`, and
//! the severity of messages on stderr): ANSI codes on a terminal, plain text otherwise and
//! whenever `NO_COLOR` is set; `--color always|never` overrides both.

/// ANSI colour for terminals, nothing otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint {
    /// Emit colour codes.
    pub enabled: bool,
}

/// `--color always|never` for the whole process, set once by [`Paint::choose`].
static CHOICE: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();

impl Paint {
    /// Records `--color` for every later [`Paint::detect`] and [`Paint::detect_stderr`]:
    /// `Some(true)` always, `Some(false)` never, `None` auto.
    pub fn choose(choice: Option<bool>) {
        let _ = CHOICE.set(choice);
    }

    /// Colour for stdout: as `--color` says; by default when stdout is a terminal and `NO_COLOR`
    /// is unset or empty (no-color.org). The same rule in every command.
    pub fn detect() -> Paint {
        use std::io::IsTerminal;
        Paint::auto(std::io::stdout().is_terminal())
    }

    /// Colour for stderr (messages), by the same rule with stderr's terminal.
    pub fn detect_stderr() -> Paint {
        use std::io::IsTerminal;
        Paint::auto(std::io::stderr().is_terminal())
    }

    fn auto(terminal: bool) -> Paint {
        let enabled = match CHOICE.get().copied().flatten() {
            Some(forced) => forced,
            None => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        };
        Paint { enabled }
    }

    /// Yellow: warnings.
    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }

    /// Colours the severity word of a `path:line: severity: message` line.
    pub fn message(self, line: &str) -> String {
        if !self.enabled {
            return line.to_string();
        }
        for (word, code) in [
            ("error", "31"),
            ("warning", "33"),
            ("note", "36"),
            ("info", "36"),
        ] {
            let head = format!("{word}: ");
            if let Some(rest) = line.strip_prefix(&head) {
                return format!("{}{rest}", self.wrap(code, &head));
            }
            let mid = format!(": {word}: ");
            if let Some(at) = line.find(&mid) {
                let (place, rest) = line.split_at(at);
                return format!(
                    "{place}: {}{}",
                    self.wrap(code, &format!("{word}: ")),
                    &rest[mid.len()..]
                );
            }
        }
        line.to_string()
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Green: allowed.
    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }

    /// Red: denied by a rule.
    pub fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }

    /// Dim: not readable, secondary.
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_colour_only_the_severity() {
        let on = Paint { enabled: true };
        assert_eq!(
            on.message("kvstore/a:2: error: key \"k\": duplicate key"),
            "kvstore/a:2: \x1b[31merror: \x1b[0mkey \"k\": duplicate key"
        );
        assert_eq!(on.message("warning: x"), "\x1b[33mwarning: \x1b[0mx");
        assert_eq!(Paint { enabled: false }.message("error: x"), "error: x");
    }

    #[test]
    fn paint_is_plain_unless_enabled() {
        assert_eq!(Paint { enabled: false }.green("●"), "●");
        assert_eq!(Paint { enabled: true }.green("●"), "\x1b[32m●\x1b[0m");
    }
}
