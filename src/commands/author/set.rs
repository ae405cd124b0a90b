//! `kubevault set`, `unset` and `rm`: change one secret file from the command line.
//!
//! `set IDENTITY KEY=VALUE...` takes each value as a string (`KEY=VALUE`), from a file
//! (`KEY=@FILE`, binary files become `!!binary`), from stdin (`KEY=-`) or from the OS CSPRNG
//! (`KEY=%random[:N]`, N letters and digits, default 32). `@@…` and `%%…` stand for a literal
//! leading `@` or `%`. A new file is encrypted when a `.sops.yaml` creation rule covers it;
//! `--plaintext` writes one that no rule covers. An encrypted file keeps the ciphertext of every
//! value that did not change.

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::{Target, encryption_of, existing, open_file, report};
use crate::exit::Exit;
use crate::report::Report;
use crate::sops::Opened;

/// Most bytes one value may hold (the whole Secret is capped at 1 MiB too).
const MAX_VALUE: u64 = 1 << 20;

/// How a value is given.
enum Source<'a> {
    Literal(&'a str),
    File(&'a str),
    Stdin,
    Random(usize),
}

fn parse_assignment(arg: &str) -> anyhow::Result<(&str, Source<'_>)> {
    let Some((key, value)) = arg.split_once('=') else {
        // Not echoed: a mistyped argument may be a value.
        bail!("an argument has no `=`: expected KEY=VALUE, KEY=@FILE, KEY=- or KEY=%random[:N]");
    };
    crate::vault::secret_file::check_key(key)
        .map_err(|why| anyhow::anyhow!("key {key:?}: {why}"))?;
    if key == "sops" {
        bail!("key \"sops\" is reserved for the SOPS metadata");
    }
    let source = if let Some(rest) = value.strip_prefix("@@") {
        Source::Literal(&value[value.len() - rest.len() - 1..])
    } else if let Some(path) = value.strip_prefix('@') {
        Source::File(path)
    } else if value == "-" {
        Source::Stdin
    } else if let Some(rest) = value.strip_prefix("%%") {
        Source::Literal(&value[value.len() - rest.len() - 1..])
    } else if let Some(spec) = value.strip_prefix("%random") {
        let n = match spec.strip_prefix(':') {
            None if spec.is_empty() => 32,
            Some(n) => n
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=4096).contains(n))
                .with_context(|| format!("key {key:?}: %random:N needs N from 1 to 4096"))?,
            None => bail!("key {key:?}: expected %random or %random:N"),
        };
        Source::Random(n)
    } else {
        Source::Literal(value)
    };
    Ok((key, source))
}

/// `n` characters from `[A-Za-z0-9]`, uniformly, from the OS CSPRNG.
pub fn random_text(n: usize) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = Zeroizing::new(Vec::with_capacity(n));
    let mut pool = Zeroizing::new([0u8; 64]);
    while out.len() < n {
        crate::sops::random_fill(pool.as_mut_slice()).map_err(|e| anyhow::anyhow!("{e}"))?;
        for &byte in pool.iter() {
            // 248 = 4 × 62: rejection keeps every character equally likely.
            if byte < 248 && out.len() < n {
                out.push(ALPHABET[usize::from(byte) % 62]);
            }
        }
    }
    Ok(out)
}

fn read_value(
    source: &Source<'_>,
    key: &str,
    cwd: &Path,
    stdin_used: &mut bool,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    Ok(match source {
        Source::Literal(text) => Zeroizing::new(text.as_bytes().to_vec()),
        Source::Random(n) => random_text(*n)?,
        Source::Stdin => {
            if std::mem::replace(stdin_used, true) {
                bail!("key {key:?}: only one value can come from stdin (`-`)");
            }
            let mut bytes = Zeroizing::new(Vec::new());
            std::io::stdin()
                .take(MAX_VALUE + 1)
                .read_to_end(&mut bytes)
                .with_context(|| format!("key {key:?}: cannot read stdin"))?;
            if bytes.len() as u64 > MAX_VALUE {
                bail!("key {key:?}: the value on stdin is larger than 1 MiB");
            }
            bytes
        }
        Source::File(path) => {
            let path = cwd.join(path);
            let meta = std::fs::metadata(&path)
                .with_context(|| format!("key {key:?}: cannot read {}", path.display()))?;
            if !meta.is_file() {
                bail!("key {key:?}: {} is not a regular file", path.display());
            }
            let mut bytes = Zeroizing::new(Vec::new());
            std::fs::File::open(&path)
                .and_then(|f| f.take(MAX_VALUE + 1).read_to_end(&mut bytes))
                .with_context(|| format!("key {key:?}: cannot read {}", path.display()))?;
            if bytes.len() as u64 > MAX_VALUE {
                bail!("key {key:?}: {} is larger than 1 MiB", path.display());
            }
            bytes
        }
    })
}

/// Options of `set`.
pub struct SetOptions<'a> {
    /// The secret identity.
    pub identity: &'a str,
    /// `KEY=...` arguments.
    pub assignments: &'a [String],
    /// Write a new file in clear even though no creation rule covers it.
    pub plaintext: bool,
}

/// Runs `kubevault set`.
pub fn set(target: &mut Target, options: &SetOptions<'_>, cwd: &Path) -> anyhow::Result<Report> {
    if options.assignments.is_empty() {
        bail!("nothing to set: give KEY=VALUE, KEY=@FILE, KEY=- or KEY=%random[:N]");
    }
    let mut values = Vec::new();
    let mut stdin_used = false;
    for arg in options.assignments {
        let (key, source) = parse_assignment(arg)?;
        let bytes = read_value(&source, key, cwd, &mut stdin_used)?;
        values.retain(|(k, _): &(String, _)| k != key);
        values.push((key.to_string(), bytes));
    }
    let mut identities = None;
    let mut messages = Vec::new();
    let (rel, mut opened, created) = match existing(target, options.identity)? {
        Some(rel) => {
            let opened = open_file(target, &rel, &mut identities)?;
            (rel, opened, false)
        }
        None => {
            let rel = format!("kvstore/{}.yaml", options.identity);
            let opened = Opened::open("", None).map_err(|e| anyhow::anyhow!("{e}"))?;
            (rel, opened, true)
        }
    };
    let rule = target.rule_for(&rel)?;
    if created {
        match &rule {
            Some((_, rule)) => opened
                .encrypt(&encryption_of(rule))
                .map_err(|e| anyhow::anyhow!("{rel}: {e}"))?,
            None if options.plaintext => {}
            None => bail!(
                "{rel}: no .sops.yaml creation rule covers this new file, so it would be written \
                 in clear text; add a creation rule (with age recipients) at or above it, or pass \
                 --plaintext"
            ),
        }
    } else if !opened.is_encrypted()
        && let Some((config, rule)) = &rule
    {
        messages.push(format!(
            "warning: {rel} is plaintext although {} of {} covers it; run `kubevault encrypt {rel}`",
            rule.describe(),
            config.display()
        ));
    }
    let mut changed = Vec::new();
    for (key, bytes) in &values {
        let existed = opened.value(key).is_some();
        if opened.set(key, bytes) {
            changed.push(format!(
                "{key} ({})",
                if existed { "changed" } else { "added" }
            ));
        }
    }
    if changed.is_empty() && !created {
        messages.push(format!("{rel}: unchanged (every value was already set)"));
        return Ok(report(messages, Exit::Success));
    }
    let text = opened.write().map_err(|e| anyhow::anyhow!("{rel}: {e}"))?;
    target.fs.write(&rel, text.as_bytes())?;
    let how = if opened.is_encrypted() {
        "encrypted"
    } else {
        "plaintext"
    };
    let verb = if created { "created" } else { "updated" };
    messages.push(format!("{verb} {rel} ({how}): {}", changed.join(", ")));
    Ok(report(messages, Exit::Success))
}

/// Runs `kubevault unset IDENTITY KEY...`.
pub fn unset(target: &mut Target, identity: &str, keys: &[String]) -> anyhow::Result<Report> {
    let rel = existing(target, identity)?
        .with_context(|| format!("no secret file for {identity} under kvstore/"))?;
    let mut identities = None;
    let mut opened = open_file(target, &rel, &mut identities)?;
    let mut removed = Vec::new();
    let mut messages = Vec::new();
    for key in keys {
        if opened.unset(key) {
            removed.push(key.clone());
        } else {
            messages.push(format!("warning: {rel}: no key {key:?}"));
        }
    }
    if removed.is_empty() {
        messages.push(format!("{rel}: unchanged"));
        return Ok(report(messages, Exit::Success));
    }
    let text = opened.write().map_err(|e| anyhow::anyhow!("{rel}: {e}"))?;
    target.fs.write(&rel, text.as_bytes())?;
    messages.push(format!("updated {rel}: removed {}", removed.join(", ")));
    Ok(report(messages, Exit::Success))
}

/// Runs `kubevault rm IDENTITY`: removes the file and warns about access rules that matched it
/// and now match no secret.
pub fn rm(target: &mut Target, identity: &str) -> anyhow::Result<Report> {
    let rel = existing(target, identity)?
        .with_context(|| format!("no secret file for {identity} under kvstore/"))?;
    target.fs.remove(&rel)?;
    let mut messages = vec![format!("removed {rel}")];
    let (files, _) = crate::vault::walk::read_vault(&target.dir);
    let identities: Vec<String> = files
        .kvstore
        .iter()
        .map(|f| crate::vault::names::identity(f.rel.strip_prefix("kvstore/").unwrap_or(&f.rel)))
        .collect();
    for file in files.access_control.iter().flatten() {
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        let (rules, _) = crate::vault::rules::parse_rules(text);
        for rule in rules {
            if rule.matches(identity) && !identities.iter().any(|id| rule.matches(id)) {
                messages.push(format!(
                    "{}:{}: warning: rule `{}` now matches no secret; remove it or add a secret",
                    file.rel, rule.line, rule.pattern
                ));
            }
        }
    }
    Ok(report(messages, Exit::Success))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(arg: &str) -> String {
        match parse_assignment(arg).unwrap().1 {
            Source::Literal(text) => text.to_string(),
            _ => panic!("{arg}: not a literal"),
        }
    }

    #[test]
    fn assignments() {
        assert_eq!(literal("a=0080"), "0080");
        assert_eq!(literal("a=x=y"), "x=y");
        assert_eq!(literal("a="), "");
        assert_eq!(literal("a=@@home"), "@home");
        assert_eq!(literal("a=%%20"), "%20");
        assert!(matches!(
            parse_assignment("a=@f").unwrap().1,
            Source::File("f")
        ));
        assert!(matches!(parse_assignment("a=-").unwrap().1, Source::Stdin));
        assert!(matches!(
            parse_assignment("a=%random").unwrap().1,
            Source::Random(32)
        ));
        assert!(matches!(
            parse_assignment("a=%random:7").unwrap().1,
            Source::Random(7)
        ));
        for bad in [
            "novalue",
            "a=%random:0",
            "a=%random:x",
            "a=%randomly",
            "sops=x",
            "b c=1",
            "=v",
        ] {
            let err = parse_assignment(bad).err().unwrap().to_string();
            assert!(!err.contains("novalue"), "{err}");
        }
    }

    #[test]
    fn random_text_is_alphanumeric_of_the_asked_length() {
        let a = random_text(100).unwrap();
        let b = random_text(100).unwrap();
        assert_eq!(a.len(), 100);
        assert!(a.iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a.as_slice(), b.as_slice());
    }
}
