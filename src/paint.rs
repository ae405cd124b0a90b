//! Terminal colour for the human-facing listings (`can-read`, `who-can-read`): ANSI codes on a
//! terminal, plain text otherwise and whenever `NO_COLOR` is set.

/// ANSI colour for terminals, nothing otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paint {
    /// Emit colour codes.
    pub enabled: bool,
}

impl Paint {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty (no-color.org).
    pub fn detect() -> Paint {
        use std::io::IsTerminal;
        Paint {
            enabled: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
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
    fn paint_is_plain_unless_enabled() {
        assert_eq!(Paint { enabled: false }.green("●"), "●");
        assert_eq!(Paint { enabled: true }.green("●"), "\x1b[32m●\x1b[0m");
    }
}
