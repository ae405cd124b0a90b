//! The review and audit commands (`audit-policy`, `audit`, `diff`, `report`): thin shells that
//! read their inputs, hand them to the pure cores in [`crate::review`], and return a [`Report`].

use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::Path;

use crate::app::{Report, VaultSource};
use crate::cli::{AuditArgs, AuditFormat, AuditPolicyArgs};
use crate::exit::Exit;
use crate::review::audit::{self, Filter, Tally};
use crate::review::load::{Reviewed, with_read};
use crate::review::{audit_policy, time};
use crate::vault::names::is_dns1123_label;
use crate::vault::walk::read_vault;

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
