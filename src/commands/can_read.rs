//! `kubevault can-read USER`: every secret of the vault, sorted by identity, marked `●` when the
//! user may read it and `○` when not, as `● <Secret name> ("<identity>")`. Evaluation is the
//! core's (last matching rule wins, default deny); no value is ever printed.

use std::path::Path;

use crate::cli::CanReadArgs;
use crate::exit::Exit;
use crate::report::Report;
use crate::vault::access::Grants;
use crate::vault::model::Vault;

use super::query::{failure, load};
use crate::paint::Paint;

/// Runs `kubevault can-read`.
pub fn run(args: &CanReadArgs, cwd: &Path, paint: Paint) -> Report {
    let checked = match load(&args.vault, cwd) {
        Ok(c) => c,
        Err(report) => return report,
    };
    let listed = match args.format {
        crate::cli::Format::Text => list(
            &checked.vault,
            &checked.grants,
            &args.user,
            args.show_only_allowed,
            paint,
        ),
        crate::cli::Format::Json => list_json(
            &checked.vault,
            &checked.grants,
            &args.user,
            args.show_only_allowed,
        ),
    };
    match listed {
        Ok(stdout) => Report {
            stdout: vec![stdout],
            messages: Vec::new(),
            exit: Exit::Success,
        },
        Err(message) => failure(vec![message]),
    }
}

/// The listing for one user as JSON: `{"user", "file", "secrets": [{"identity", "name",
/// "readable"}]}`; pure. `Err` when the vault has no such user.
pub fn list_json(
    vault: &Vault,
    grants: &Grants,
    user: &str,
    only_allowed: bool,
) -> Result<String, String> {
    // The text listing finds the user and gives the error; reuse its rows' order.
    list(vault, grants, user, only_allowed, Paint { enabled: false })?;
    let u = vault
        .users
        .iter()
        .position(|u| u.name == user)
        .expect("list found the user");
    let mut rows: Vec<(&str, &str, bool)> = vault
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let readable = grants.readable[u].contains(i);
            (s.identity.as_str(), s.name.as_str(), readable)
        })
        .filter(|&(_, _, readable)| readable || !only_allowed)
        .collect();
    rows.sort();
    let secrets: Vec<serde_json::Value> = rows
        .iter()
        .map(|&(identity, name, readable)| {
            serde_json::json!({"identity": identity, "name": name, "readable": readable})
        })
        .collect();
    let doc = serde_json::json!({
        "user": user,
        "file": vault.users[u].source,
        "readable": grants.readable[u].len(),
        "secrets": secrets,
    });
    Ok(serde_json::to_string_pretty(&doc).expect("JSON serializes") + "\n")
}

/// The listing for one user; pure. `Err` when the vault has no such user.
pub fn list(
    vault: &Vault,
    grants: &Grants,
    user: &str,
    only_allowed: bool,
    paint: Paint,
) -> Result<String, String> {
    let Some(u) = vault.users.iter().position(|u| u.name == user) else {
        let known: Vec<&str> = vault.users.iter().map(|u| u.name.as_str()).collect();
        return Err(format!(
            "error: no user {user:?} in access_control/ (users: {})",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ));
    };
    let mut rows: Vec<(&str, &str, bool)> = vault
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                s.identity.as_str(),
                s.name.as_str(),
                grants.readable[u].contains(i),
            )
        })
        .filter(|&(_, _, readable)| readable || !only_allowed)
        .collect();
    rows.sort();
    Ok(rows
        .iter()
        .map(|&(identity, name, readable)| {
            if readable {
                format!("{} {name} ({identity:?})\n", paint.green("●"))
            } else {
                paint.dim(&format!("○ {name} ({identity:?})")) + "\n"
            }
        })
        .collect())
}
