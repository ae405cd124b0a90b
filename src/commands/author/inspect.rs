//! `kubevault who-can-decrypt` (no key needed: recipients are public) and `kubevault show`
//! (decrypts one file to stdout, refusing a terminal unless `--force`).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, bail};

use super::{Target, existing, files_under, open_file, report};
use crate::exit::Exit;
use crate::report::Report;

/// The recipients of a secret file's text: `None` for a plaintext file.
pub fn file_recipients(bytes: &[u8]) -> Result<Option<Vec<String>>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let limits = crate::yaml::Limits::default();
    let docs =
        crate::yaml::parse_stream(text, &limits).map_err(|e| format!("invalid YAML: {e}"))?;
    let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
        return Ok(None);
    };
    if !crate::sops::is_encrypted(&doc) {
        return Ok(None);
    }
    crate::sops::recipients(&doc)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Runs `kubevault who-can-decrypt [IDENTITY|RECIPIENT]`.
pub fn who_can_decrypt(
    target: &mut Target,
    which: Option<&str>,
    cwd: &Path,
) -> anyhow::Result<Report> {
    let recipient_mode = which.is_some_and(|w| w.starts_with("age1"));
    let files = match which {
        Some(identity) if !recipient_mode => vec![
            existing(target, identity)?
                .with_context(|| format!("no secret file for {identity} under kvstore/"))?,
        ],
        _ => files_under(target, &[], cwd)?,
    };
    let mut out = String::new();
    let mut by_recipient: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut messages = Vec::new();
    let mut plaintext = Vec::new();
    for rel in &files {
        let bytes = target.fs.read(rel)?.unwrap_or_default();
        let recipients = match file_recipients(&bytes) {
            Ok(Some(recipients)) => recipients,
            Ok(None) => {
                plaintext.push(rel.clone());
                continue;
            }
            Err(e) => {
                messages.push(format!("warning: {rel}: {e}"));
                continue;
            }
        };
        let rule = target.rule_for(rel)?;
        if !recipient_mode {
            out.push_str(&format!("{rel}\n"));
            for r in &recipients {
                out.push_str(&format!("  {r}\n"));
            }
            if let Some((config, rule)) = &rule {
                let mut want = rule.age.clone();
                let mut have = recipients.clone();
                want.sort();
                have.sort();
                if want != have {
                    out.push_str(&format!(
                        "  ! differs from {} of {}: run `kubevault rekey {}`\n",
                        rule.describe(),
                        config.display(),
                        rel
                    ));
                }
            }
        }
        for r in recipients {
            by_recipient.entry(r).or_default().push(rel.clone());
        }
    }
    if recipient_mode {
        let wanted = which.unwrap_or_default();
        let opened = by_recipient.get(wanted).cloned().unwrap_or_default();
        out.push_str(&format!(
            "{wanted} can decrypt {} file{}\n",
            opened.len(),
            if opened.len() == 1 { "" } else { "s" }
        ));
        for rel in opened {
            out.push_str(&format!("  {rel}\n"));
        }
    } else if which.is_none() {
        if !by_recipient.is_empty() {
            out.push('\n');
        }
        for (r, files) in &by_recipient {
            out.push_str(&format!(
                "{r} can decrypt {} file{}\n",
                files.len(),
                if files.len() == 1 { "" } else { "s" }
            ));
        }
        if !plaintext.is_empty() {
            out.push_str(&format!(
                "{} plaintext file{} (anyone with the repository reads them):\n",
                plaintext.len(),
                if plaintext.len() == 1 { "" } else { "s" }
            ));
            for rel in &plaintext {
                out.push_str(&format!("  {rel}\n"));
            }
        }
    } else if let Some(rel) = plaintext.first() {
        out.push_str(&format!("{rel}\n  (plaintext: not encrypted)\n"));
    }
    Ok(Report {
        stdout: vec![out],
        messages,
        exit: Exit::Success,
    })
}

/// Runs `kubevault show IDENTITY [--key K] [--force]`.
pub fn show(
    target: &mut Target,
    identity: &str,
    key: Option<&str>,
    force: bool,
) -> anyhow::Result<Report> {
    if std::io::stdout().is_terminal() && !force {
        return Ok(report(
            vec![
                "error: refusing to print decrypted values to a terminal (they would stay in the \
                 scrollback); pipe the output, or pass --force"
                    .into(),
            ],
            Exit::Usage,
        ));
    }
    let rel = existing(target, identity)?
        .with_context(|| format!("no secret file for {identity} under kvstore/"))?;
    let mut identities = None;
    let opened = open_file(target, &rel, &mut identities)?;
    let stdout = match key {
        Some(key) => {
            let Some(value) = opened.value(key) else {
                bail!("{rel}: no key {key:?}");
            };
            // Raw bytes as text; binary values are printed base64-encoded.
            match String::from_utf8(value.to_vec()) {
                Ok(text) => text,
                Err(_) => {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD.encode(value.as_slice()) + "\n"
                }
            }
        }
        None => opened.view_text().to_string(),
    };
    Ok(Report {
        stdout: vec![stdout],
        messages: Vec::new(),
        exit: Exit::Success,
    })
}
