//! `kubevault encrypt` and `kubevault rekey`: whole-tree encryption and key changes.
//!
//! `encrypt [PATH...]` encrypts plaintext secret files in place for the recipients and value rules
//! of the creation rule that covers each (default: every plaintext file under kvstore/ that a rule
//! covers), keeping each value's text as written (`0080`, `1.10`, `on` stay strings). `rekey
//! [PATH...]` re-wraps each encrypted file's data key for the recipients its creation rule names
//! now (sops `updatekeys` for the whole tree; values, MAC and `lastmodified` stay, stanzas of
//! recipients that stay are kept byte for byte); `--rotate` also draws a fresh data key and
//! re-encrypts every value. Files are processed on every core; each is written atomically.

use std::path::{Path, PathBuf};

use super::{Target, encryption_of, files_under, report};
use crate::exit::Exit;
use crate::par::par_map;
use crate::report::Report;

/// What happened to one file.
enum Outcome {
    Written(String),
    Skipped(String),
    /// A plaintext file no creation rule covers (default mode of `encrypt`).
    Uncovered,
    Failed(String),
}

fn finish(outcomes: Vec<Outcome>, verb: &str) -> Report {
    let mut messages = Vec::new();
    let (mut written, mut failed, mut uncovered) = (0, 0, 0);
    for outcome in outcomes {
        match outcome {
            Outcome::Uncovered => uncovered += 1,
            Outcome::Skipped(line) if line.is_empty() => {}
            Outcome::Written(line) => {
                written += 1;
                messages.push(line);
            }
            Outcome::Skipped(line) => messages.push(line),
            Outcome::Failed(line) => {
                failed += 1;
                messages.push(format!("error: {line}"));
            }
        }
    }
    if uncovered > 0 {
        messages.push(format!(
            "left {uncovered} plaintext file{} in clear: no .sops.yaml creation rule covers {}",
            if uncovered == 1 { "" } else { "s" },
            if uncovered == 1 { "it" } else { "them" }
        ));
    }
    messages.push(format!(
        "{verb} {written} file{}{}",
        if written == 1 { "" } else { "s" },
        if failed > 0 {
            format!(", {failed} failed (left unchanged)")
        } else {
            String::new()
        }
    ));
    report(
        messages,
        if failed > 0 {
            Exit::Failure
        } else {
            Exit::Success
        },
    )
}

/// Runs `kubevault encrypt`.
pub fn encrypt(target: &mut Target, paths: &[PathBuf], cwd: &Path) -> anyhow::Result<Report> {
    let files = files_under(target, paths, cwd)?;
    let explicit = !paths.is_empty();
    let mut jobs = Vec::new();
    for rel in files {
        jobs.push((rel.clone(), target.rule_for(&rel)?));
    }
    let target = &*target;
    let outcomes = par_map(&jobs, |(rel, rule)| {
        let bytes = match target.fs.read(rel) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Outcome::Failed(format!("{rel}: vanished")),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        if crate::vault::encryption::looks_encrypted(&bytes) {
            return if explicit {
                Outcome::Skipped(format!("{rel}: already encrypted"))
            } else {
                Outcome::Skipped(String::new())
            };
        }
        let Some((_, rule)) = rule else {
            return if explicit {
                Outcome::Failed(format!(
                    "{rel}: no .sops.yaml creation rule covers it; add one with age recipients"
                ))
            } else {
                Outcome::Uncovered
            };
        };
        let opened = String::from_utf8(bytes)
            .map_err(|_| format!("{rel}: not UTF-8"))
            .and_then(|text| {
                crate::sops::Opened::open(&text, None).map_err(|e| format!("{rel}: {e}"))
            });
        let mut opened = match opened {
            Ok(opened) => opened,
            Err(e) => return Outcome::Failed(e),
        };
        let result = opened
            .encrypt(&encryption_of(rule))
            .and_then(|()| opened.write())
            .map_err(|e| format!("{rel}: {e}"))
            .and_then(|text| {
                target
                    .fs
                    .write(rel, text.as_bytes())
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(()) => Outcome::Written(format!(
                "encrypted {rel} for {} recipient{}",
                rule.age.len(),
                if rule.age.len() == 1 { "" } else { "s" }
            )),
            Err(e) => Outcome::Failed(e),
        }
    });
    Ok(finish(outcomes, "encrypted"))
}

/// Runs `kubevault rekey`.
pub fn rekey(
    target: &mut Target,
    paths: &[PathBuf],
    rotate: bool,
    cwd: &Path,
) -> anyhow::Result<Report> {
    let files = files_under(target, paths, cwd)?;
    let mut jobs = Vec::new();
    for rel in files {
        jobs.push((rel.clone(), target.rule_for(&rel)?));
    }
    let identities = Some(target.identities()?);
    let target = &*target;
    let outcomes = par_map(&jobs, |(rel, rule)| {
        let bytes = match target.fs.read(rel) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Outcome::Failed(format!("{rel}: vanished")),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        // sops' binary format (JSON) too: skipping it would leave it readable by a recipient
        // that was just removed.
        let binary = super::is_binary_format(rel, &bytes);
        if !binary && !bytes.windows(6).any(|w| w == b"\nsops:") && !bytes.starts_with(b"sops:") {
            return Outcome::Skipped(String::new());
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Outcome::Failed(format!("{rel}: not UTF-8")),
        };
        let opened = match (&identities, binary) {
            (Some(keys), true) => crate::sops::Opened::open_binary(&text, keys),
            _ => crate::sops::Opened::open(&text, identities.as_ref()),
        };
        let mut opened = match opened {
            Ok(opened) => opened,
            Err(e) => return Outcome::Failed(format!("{rel}: {e}")),
        };
        if !opened.is_encrypted() {
            return Outcome::Skipped(String::new());
        }
        let Some((_, rule)) = rule else {
            return Outcome::Failed(format!(
                "{rel}: no .sops.yaml creation rule covers it, so there are no recipients to rekey for"
            ));
        };
        if rule.age.is_empty() {
            return Outcome::Failed(format!(
                "{rel}: {} names no age recipients",
                rule.describe()
            ));
        }
        let before = opened.recipients();
        let result = opened
            .rekey(&rule.age, rotate)
            .map_err(|e| format!("{rel}: {e}"))
            .and_then(|changed| {
                if !changed {
                    return Ok(false);
                }
                let text = opened.write().map_err(|e| format!("{rel}: {e}"))?;
                target
                    .fs
                    .write(rel, text.as_bytes())
                    .map_err(|e| e.to_string())?;
                Ok(true)
            });
        match result {
            Ok(false) => Outcome::Skipped(String::new()),
            Ok(true) => {
                let added: Vec<&String> = rule.age.iter().filter(|r| !before.contains(r)).collect();
                let removed: Vec<&String> =
                    before.iter().filter(|r| !rule.age.contains(r)).collect();
                let mut line = format!("rekeyed {rel}");
                if rotate {
                    line.push_str(" (new data key, every value re-encrypted)");
                }
                for r in added {
                    line.push_str(&format!("\n  + {r}"));
                }
                for r in removed {
                    line.push_str(&format!("\n  - {r}"));
                }
                Outcome::Written(line)
            }
            Err(e) => Outcome::Failed(e),
        }
    });
    Ok(finish(outcomes, "rekeyed"))
}
