//! `kubevault users`: every user of the vault, sorted, with how many secrets each may read, how
//! many rules its file holds and where that file is; or the same as JSON. Built on the core's
//! evaluation, without decrypting anything (names and access never depend on a value).

use std::path::Path;

use crate::cli::{Format, UsersArgs};
use crate::exit::Exit;
use crate::report::Report;
use crate::vault::access::Grants;
use crate::vault::model::Vault;

use super::query::load;
use crate::paint::Paint;

/// Runs `kubevault users`.
pub fn run(args: &UsersArgs, cwd: &Path, paint: Paint) -> Report {
    let checked = match load(&args.vault, cwd) {
        Ok(c) => c,
        Err(report) => return report,
    };
    Report {
        stdout: vec![list(&checked.vault, &checked.grants, args.format, paint)],
        messages: Vec::new(),
        exit: Exit::Success,
    }
}

/// The listing; pure.
pub fn list(vault: &Vault, grants: &Grants, format: Format, paint: Paint) -> String {
    let total = vault.secrets.len();
    let rows: Vec<(&str, usize, usize, &str)> = vault
        .users
        .iter()
        .enumerate()
        .map(|(u, user)| {
            (
                user.name.as_str(),
                grants.readable[u].len(),
                user.rules.len(),
                user.source.as_str(),
            )
        })
        .collect();
    match format {
        Format::Json => {
            let users: Vec<serde_json::Value> = rows
                .iter()
                .map(|&(name, readable, rules, file)| {
                    serde_json::json!({
                        "name": name,
                        "readable": readable,
                        "secrets": total,
                        "rules": rules,
                        "file": file,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&users).expect("JSON serializes") + "\n"
        }
        Format::Text => {
            let name_w = rows
                .iter()
                .map(|r| r.0.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            let reads: Vec<String> = rows.iter().map(|r| format!("{}/{total}", r.1)).collect();
            let reads_w = reads.iter().map(String::len).max().unwrap_or(0).max(5);
            let mut out = paint.dim(&format!(
                "{:<name_w$}  {:>reads_w$}  {:>5}  FILE",
                "USER", "READS", "RULES"
            ));
            out.push('\n');
            for (row, reads) in rows.iter().zip(&reads) {
                let (name, readable, rules, file) = *row;
                let name = format!("{name:<name_w$}");
                let name = if readable == 0 {
                    paint.dim(&name)
                } else {
                    paint.green(&name)
                };
                out.push_str(&format!("{name}  {reads:>reads_w$}  {rules:>5}  {file}\n"));
            }
            out.push_str(&format!(
                "{} user{}, {} secret{}\n",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" },
                total,
                if total == 1 { "" } else { "s" }
            ));
            out
        }
    }
}
