//! What the access commands (`can-read`, `who-can-read`) and `external-secret` share: loading a
//! vault that must be free of errors before any question about it is answered, finding a secret
//! by identity with a hint for the usual slips, and terminal colour.

use std::path::Path;

use crate::app::{CheckedVault, Decryption, Report, VaultSource, check_vault_with};
use crate::cli::VaultDirArg;
use crate::config::DEFAULT_NAMESPACE;
use crate::diag::Severity;
use crate::exit::Exit;
use crate::render::RenderSettings;
use crate::vault::Secret;
use crate::vault::model::Vault;
use crate::vault::names::secret_name;

/// Checks the vault at `vault_dir` (relative to `cwd`). A vault with errors renders nothing, so
/// questions about it are not answered: `Err` is the report listing the errors (exit 1).
pub fn load(vault: &VaultDirArg, cwd: &Path) -> Result<CheckedVault, Report> {
    let settings = RenderSettings {
        namespace: DEFAULT_NAMESPACE.into(),
        create_namespace: false,
        generator: "kubevault".into(),
    };
    let source = VaultSource::from_args(&vault.vault_dir, vault.age_key_file.as_deref(), cwd);
    // Names, keys and access never depend on a value (SPEC §9): never decrypt here, so the
    // answer is the same with or without the private key.
    let checked = check_vault_with(&source, &settings, Decryption::Never);
    if !checked.diags.has_errors() {
        return Ok(checked);
    }
    let mut messages: Vec<String> = checked
        .diags
        .sorted()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    messages.push(format!(
        "error: the vault has {} error(s); fix them first (`kubevault check` lists every problem)",
        messages.len()
    ));
    Err(failure(messages))
}

/// A report with no stdout, these stderr lines and exit 1.
pub fn failure(messages: Vec<String>) -> Report {
    Report {
        stdout: Vec::new(),
        messages,
        exit: Exit::Failure,
    }
}

/// The secret with this identity, or an error message with a hint when the argument looks like
/// a Secret name, a file name or a path under the vault.
pub fn find_secret<'a>(vault: &'a Vault, identity: &str) -> Result<&'a Secret, String> {
    if let Some(s) = vault.secrets.iter().find(|s| s.identity == identity) {
        return Ok(s);
    }
    let stripped = identity.trim_start_matches("./");
    let stripped = stripped.strip_prefix("kvstore/").unwrap_or(stripped);
    let stripped = stripped
        .strip_suffix(".yaml")
        .or_else(|| stripped.strip_suffix(".yml"))
        .unwrap_or(stripped);
    let hint = vault
        .secrets
        .iter()
        .find(|s| s.identity == stripped || s.name == identity || s.name == secret_name(identity))
        .map(|s| format!(": did you mean {:?} (Secret {})?", s.identity, s.name))
        .unwrap_or_else(|| {
            ": an identity is the path under kvstore/ without .yaml; `kubevault can-read USER` lists them"
                .into()
        });
    Err(format!("error: no secret with identity {identity:?}{hint}"))
}

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
