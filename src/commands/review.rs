//! The review and audit commands (`audit-policy`, `audit`, `diff`, `report`): thin shells that
//! read their inputs, hand them to the pure cores in [`crate::review`], and return a [`Report`].

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use crate::report::Report;
use crate::source::VaultSource;
use sha2::Digest;

use crate::cli::{AuditArgs, AuditFormat, AuditPolicyArgs, DiffArgs, DiffFormat, ReportArgs};
use crate::diag::Diagnostics;
use crate::exit::Exit;
use crate::review::audit::{self, Filter, Tally};
use crate::review::diff::{self, Side};
use crate::review::diff_format;
use crate::review::load::{Reviewed, with_read};
use crate::review::{audit_policy, time};
use crate::sops;
use crate::vault::names::is_dns1123_label;
use crate::vault::source::read_tree;
use crate::vault::walk::read_vault;
use crate::vault::walk::{Budget, VaultFiles};

use super::query::failure;

fn ok(stdout: String, messages: Vec<String>) -> Report {
    Report {
        stdout: vec![stdout],
        messages,
        exit: Exit::Success,
    }
}

fn usage(message: String) -> Report {
    Report {
        stdout: Vec::new(),
        messages: vec![format!("error: {message}")],
        exit: Exit::Usage,
    }
}

fn check_namespace(namespace: &str) -> Result<(), Report> {
    if is_dns1123_label(namespace) {
        Ok(())
    } else {
        Err(usage(format!(
            "namespace {namespace:?} is not a DNS-1123 label"
        )))
    }
}

/// Reads a vault directory for review (no key needed); `Err` lists its errors.
pub fn review_dir(source: &VaultSource, namespace: &str, what: &str) -> Result<Reviewed, Report> {
    let (files, read) = read_vault(&source.dir);
    let reviewed = with_read(&files, read, namespace);
    let errors = reviewed.errors();
    if errors.is_empty() {
        return Ok(reviewed);
    }
    let mut messages: Vec<String> = errors.iter().map(|e| format!("{what}: {e}")).collect();
    messages.push(format!(
        "error: {what} has {} error(s); fix them first (`kubevault check` lists every problem)",
        errors.len()
    ));
    Err(failure(messages))
}

/// Runs `kubevault audit-policy`.
pub fn run_audit_policy(args: &AuditPolicyArgs) -> Report {
    if let Err(report) = check_namespace(&args.namespace) {
        return report;
    }
    ok(audit_policy::policy(&args.namespace), Vec::new())
}

/// Runs `kubevault audit`.
pub fn run_audit(args: &AuditArgs, cwd: &Path) -> Report {
    if let Err(report) = check_namespace(&args.namespace) {
        return report;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let since = match args.since.as_deref().map(|s| time::parse_since(s, now)) {
        Some(Err(message)) => return usage(message),
        Some(Ok(t)) => Some(t),
        None => None,
    };
    let source = VaultSource::from_args(&args.vault.vault_dir, None, cwd);
    let reviewed = match review_dir(&source, &args.namespace, "the vault") {
        Ok(r) => r,
        Err(report) => return report,
    };
    let filter = Filter {
        since,
        user: args.user.clone(),
        secret: args.secret.clone(),
    };
    let mut tally = Tally::new(&reviewed.vault, &reviewed.grants, &args.namespace, filter);
    let stdin_only = args.logs.is_empty();
    if stdin_only && std::io::stdin().is_terminal() {
        return usage(
            "name audit log files, or pipe a log in: kubevault audit /var/log/kubernetes/audit.log"
                .into(),
        );
    }
    let dash = [std::path::PathBuf::from("-")];
    let logs = if stdin_only {
        &dash[..]
    } else {
        &args.logs[..]
    };
    for log in logs {
        let shown = log.display().to_string();
        let result = if log.as_os_str() == "-" {
            feed(std::io::stdin().lock(), &mut tally)
        } else {
            match std::fs::File::open(cwd.join(log)) {
                Ok(file) => feed(file, &mut tally),
                Err(e) => Err(e),
            }
        };
        if let Err(e) = result {
            return failure(vec![format!(
                "error: cannot read the audit log {shown}: {}",
                crate::vault::walk::io_reason(&e)
            )]);
        }
    }
    let answer = tally.finish();
    let mut messages = Vec::new();
    if answer.counts.malformed > 0 {
        messages.push(format!(
            "warning: skipped {} malformed lines (not audit.k8s.io/v1 Events)",
            answer.counts.malformed
        ));
    }
    if answer.counts.lines > 0 && answer.counts.matched == 0 && answer.counts.other_stages > 0 {
        messages.push(
            "warning: only RequestReceived/ResponseStarted events on vault Secrets: the policy omits the ResponseComplete stage?"
                .into(),
        );
    }
    let stdout = match args.format {
        AuditFormat::Text => audit::text(&answer),
        AuditFormat::Json => audit::json(&answer),
    };
    ok(stdout, messages)
}

/// Feeds one log (plain or gzip, told apart by its first bytes) through the tally.
fn feed(input: impl Read, tally: &mut Tally<'_>) -> std::io::Result<()> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let gz = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if gz {
        let inflated =
            BufReader::with_capacity(1 << 16, flate2::bufread::MultiGzDecoder::new(reader));
        audit::for_each_line(inflated, |line| tally.line(line))
    } else {
        audit::for_each_line(reader, |line| tally.line(line))
    }
}

/// One side of a diff as read: label, files, reading problems and `metadata.yaml`.
struct SideRead {
    label: String,
    files: VaultFiles,
    diags: Diagnostics,
}

fn read_side(spec: &str, vault_dir: &Path, cwd: &Path) -> Result<SideRead, String> {
    if let Some(rev) = spec.strip_prefix("git:") {
        let tree = crate::review::git::read_rev(cwd, vault_dir, rev)?;
        let label = tree.shown.clone();
        let (files, diags) = read_tree(tree, Budget::default());
        return Ok(SideRead {
            label,
            files,
            diags,
        });
    }
    let dir = crate::config::normalize(&cwd.join(spec));
    let (files, diags) = read_vault(&dir);
    Ok(SideRead {
        label: spec.to_string(),
        files,
        diags,
    })
}

/// Runs `kubevault diff`.
pub fn run_diff(args: &DiffArgs, cwd: &Path) -> Report {
    let new_spec = args
        .new
        .clone()
        .unwrap_or_else(|| args.vault.vault_dir.display().to_string());
    let namespace = crate::config::DEFAULT_NAMESPACE;
    let mut sides = Vec::new();
    let mut errors = Vec::new();
    for (what, spec) in [("OLD", args.old.as_str()), ("NEW", new_spec.as_str())] {
        match read_side(spec, &args.vault.vault_dir, cwd) {
            Ok(read) => {
                let reviewed = with_read(&read.files, read.diags, namespace);
                for e in reviewed.errors() {
                    errors.push(format!("{what} {}: {e}", read.label));
                }
                sides.push((read.label, read.files, reviewed));
            }
            Err(message) => errors.push(format!("error: {what}: {message}")),
        }
    }
    if !errors.is_empty() {
        errors.push(
            "error: both vaults must be valid to compare them (`kubevault check` lists every problem)"
                .into(),
        );
        return failure(errors);
    }
    let mut messages = Vec::new();
    let any_encrypted = sides.iter().any(|(_, files, _)| {
        files
            .kvstore
            .iter()
            .any(|f| f.bytes.starts_with(b"sops:") || f.bytes.windows(6).any(|w| w == b"\nsops:"))
    });
    // The key is needed only to compare plaintext; without one, ciphertext is compared.
    let identities = if any_encrypted {
        match sops::load_identities(args.vault.age_key_file.as_deref(), &|k| {
            std::env::var(k).ok()
        }) {
            Ok(ids) => Some(ids),
            Err(e) => {
                messages.push(format!(
                    "warning: cannot load age keys ({e}): encrypted values are compared by ciphertext"
                ));
                None
            }
        }
    } else {
        None
    };
    let built: Vec<Side> = sides
        .iter()
        .map(|(label, files, reviewed)| {
            let (keys, sealed) = diff::fingerprints(&reviewed.vault, files, identities.as_ref());
            if !sealed.is_empty() && any_encrypted {
                messages.push(format!(
                    "note: {label}: {}: values compared by ciphertext",
                    plural_files(sealed.len())
                ));
            }
            Side {
                label: label.clone(),
                vault: &reviewed.vault,
                grants: &reviewed.grants,
                keys,
                metadata: files
                    .metadata
                    .as_ref()
                    .map(|m| sha2::Sha256::digest(&m.bytes).into()),
            }
        })
        .collect();
    let d = diff::diff(&built[0], &built[1]);
    let stdout = match args.format {
        DiffFormat::Text => diff_format::text(&d),
        DiffFormat::Markdown => diff_format::markdown(&d),
        DiffFormat::Json => diff_format::json(&d),
    };
    let mut exit = Exit::Success;
    if args.fail_on_gain && d.gains() > 0 {
        messages.push(format!(
            "error: {} (user × secret) access gains, and --fail-on-gain was given",
            d.gains()
        ));
        exit = Exit::AccessGained;
    }
    Report {
        stdout: vec![stdout],
        messages,
        exit,
    }
}

fn plural_files(n: usize) -> String {
    if n == 1 {
        "1 encrypted file no key opens".into()
    } else {
        format!("{n} encrypted files no key opens")
    }
}

/// Runs `kubevault report --html FILE`.
pub fn run_report(args: &ReportArgs, cwd: &Path) -> Report {
    let source = VaultSource::from_args(&args.vault.vault_dir, None, cwd);
    let reviewed = match review_dir(&source, crate::config::DEFAULT_NAMESPACE, "the vault") {
        Ok(r) => r,
        Err(report) => return report,
    };
    let title = args.title.clone().unwrap_or_else(|| {
        format!(
            "kubevault access matrix: {}",
            args.vault.vault_dir.display()
        )
    });
    let page = crate::review::report::page(&reviewed.vault, &title);
    let target = cwd.join(&args.html);
    let (Some(dir), Some(name)) = (target.parent(), target.file_name().and_then(|n| n.to_str()))
    else {
        return usage(format!("--html {}: not a file name", args.html.display()));
    };
    if let Err(e) = super::safe_write::write_files(dir, &[(name.to_string(), page.clone())], 0o644)
    {
        return failure(vec![format!("error: {e:#}")]);
    }
    let grants: usize = reviewed
        .grants
        .readable
        .iter()
        .map(crate::vault::access::Ids::len)
        .sum();
    ok(
        String::new(),
        vec![format!(
            "wrote {} ({} bytes): {} secrets × {} users, {grants} grants",
            args.html.display(),
            page.len(),
            reviewed.vault.secrets.len(),
            reviewed.vault.users.len()
        )],
    )
}
