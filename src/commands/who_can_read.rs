//! `kubevault who-can-read IDENTITY`: for one secret, each user who may read it with the
//! `file:line` and pattern of the rule that decided, then each user an explicit `!rule` denies.
//! Users no rule matches are denied by default and named on one closing line. Evaluation is the
//! core's `deciding_rule`; no value is ever printed.

use std::path::Path;

use crate::cli::WhoCanReadArgs;
use crate::exit::Exit;
use crate::report::Report;
use crate::vault::model::Vault;
use crate::vault::rules::deciding_rule;

use super::query::{failure, find_secret, load};
use crate::paint::Paint;

/// Runs `kubevault who-can-read`.
pub fn run(args: &WhoCanReadArgs, cwd: &Path, paint: Paint) -> Report {
    let checked = match load(&args.vault, cwd) {
        Ok(c) => c,
        Err(report) => return report,
    };
    match explain(&checked.vault, &args.identity, paint) {
        Ok(stdout) => Report {
            stdout: vec![stdout],
            messages: Vec::new(),
            exit: Exit::Success,
        },
        Err(message) => failure(vec![message]),
    }
}

/// The explanation for one identity; pure. `Err` when no secret has that identity.
pub fn explain(vault: &Vault, identity: &str, paint: Paint) -> Result<String, String> {
    let secret = find_secret(vault, identity)?;
    let mut allowed = Vec::new();
    let mut denied = Vec::new();
    let mut unmatched = Vec::new();
    for user in &vault.users {
        match deciding_rule(&user.rules, &secret.identity) {
            Some(rule) => {
                let place = format!("{}:{}", user.source, rule.line);
                let bang = if rule.allow { "" } else { "!" };
                let row = (user.name.as_str(), place, format!("{bang}{}", rule.pattern));
                if rule.allow {
                    allowed.push(row);
                } else {
                    denied.push(row);
                }
            }
            None => unmatched.push(user.name.as_str()),
        }
    }
    let user_w = allowed
        .iter()
        .chain(&denied)
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(0);
    let place_w = allowed
        .iter()
        .chain(&denied)
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "{} ({:?}, from {})\n",
        secret.name, secret.identity, secret.source
    );
    out.push_str(&format!(
        "shape: {} ({})\n",
        secret.shape.describe(),
        secret.shape.sources()
    ));
    if allowed.is_empty() {
        out.push_str("nobody may read it\n");
    }
    for (user, place, rule) in &allowed {
        out.push_str(&format!(
            "{} {user:<user_w$}  {place:<place_w$}  {rule}\n",
            paint.green("●")
        ));
    }
    for (user, place, rule) in &denied {
        out.push_str(&format!(
            "{} {user:<user_w$}  {place:<place_w$}  {}\n",
            paint.red("○"),
            paint.red(rule)
        ));
    }
    if !unmatched.is_empty() {
        out.push_str(&paint.dim(&format!(
            "denied by default (no rule matches): {}",
            unmatched.join(", ")
        )));
        out.push('\n');
    }
    Ok(out)
}
