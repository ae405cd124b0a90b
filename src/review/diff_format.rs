//! The three faces of a [`Diff`]: text for a terminal, Markdown for a pull-request comment (a
//! summary table, then per-user gains and losses with the deciding rule, then secret and key
//! changes), and JSON for tools. Only names, keys, identities and rules are shown, never a value.

use super::diff::{Diff, Grant, SecretChange, SecretChangeKind};

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn keys_list(change: &SecretChange) -> String {
    change
        .keys
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_changes(change: &SecretChange, code: impl Fn(&str) -> String) -> Vec<String> {
    let mut parts: Vec<String> = change
        .keys
        .iter()
        .filter_map(|(k, c)| c.map(|c| format!("{} {}", code(k), c.as_str())))
        .collect();
    if let Some((old, new)) = change.encryption {
        parts.push(match (old, new) {
            (false, true) => "now SOPS-encrypted".into(),
            (true, false) => "no longer encrypted".into(),
            _ => String::new(),
        });
    }
    if let Some((old, new)) = &change.shape {
        parts.push(format!("shape {} → {}", code(old), code(new)));
    }
    parts
}

fn decided(g: &Grant) -> String {
    match &g.rule {
        Some(rule) => rule.show(),
        None => match g.why {
            "no rule matches" => "no rule matches (default deny)".into(),
            why => why.to_string(),
        },
    }
}

/// One summary line.
pub fn summary(d: &Diff) -> String {
    let gainers = d.users.iter().filter(|u| !u.gained.is_empty()).count();
    let losers = d.users.iter().filter(|u| !u.lost.is_empty()).count();
    format!(
        "access: {} gained by {}, {} lost by {}; secrets: {} added, {} removed, {} renamed, {} changed; users: {} added, {} removed",
        d.gains(),
        plural(gainers, "user", "users"),
        d.losses(),
        plural(losers, "user", "users"),
        d.count(SecretChangeKind::Added),
        d.count(SecretChangeKind::Removed),
        d.count(SecretChangeKind::Renamed),
        d.count(SecretChangeKind::Changed),
        d.users_with("added").len(),
        d.users_with("removed").len(),
    )
}

/// Text for a terminal.
pub fn text(d: &Diff) -> String {
    let mut out = format!("kubevault diff {} → {}\n{}\n", d.old, d.new, summary(d));
    if d.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    let width = d.users.iter().map(|u| u.user.len()).max().unwrap_or(0);
    let section = |out: &mut String,
                   title: &str,
                   sign: char,
                   pick: &dyn Fn(&super::diff::UserAccess) -> &Vec<Grant>| {
        let rows: Vec<(&str, &Grant)> = d
            .users
            .iter()
            .flat_map(|u| pick(u).iter().map(move |g| (u.user.as_str(), g)))
            .collect();
        if rows.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}:\n"));
        let id_w = rows
            .iter()
            .map(|(_, g)| g.identity.chars().count())
            .max()
            .unwrap_or(0);
        for (user, g) in rows {
            let mut line = format!(
                "  {user:<width$}  {sign} {:<id_w$}  {}",
                g.identity,
                decided(g)
            );
            match (&g.was, g.why) {
                (Some(was), _) => line.push_str(&format!("  (was {})", was.show())),
                (None, "new secret" | "new user") if g.rule.is_some() => {
                    line.push_str(&format!("  ({})", g.why));
                }
                _ => {}
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    };
    section(&mut out, "access gained", '+', &|u| &u.gained);
    section(&mut out, "access lost", '-', &|u| &u.lost);
    if !d.secrets.is_empty() {
        out.push_str("\nsecrets:\n");
        for s in &d.secrets {
            let line = match s.kind {
                SecretChangeKind::Added => format!("  + {} (keys: {})", s.identity, keys_list(s)),
                SecretChangeKind::Removed => format!("  - {} (keys: {})", s.identity, keys_list(s)),
                SecretChangeKind::Renamed => {
                    let changes = key_changes(s, str::to_string);
                    let tail = if changes.is_empty() {
                        "keys unchanged".to_string()
                    } else {
                        changes.join(", ")
                    };
                    format!(
                        "  > {} → {} ({tail})",
                        s.from.as_deref().unwrap_or(""),
                        s.identity
                    )
                }
                SecretChangeKind::Changed => {
                    format!(
                        "  ~ {}: {}",
                        s.identity,
                        key_changes(s, str::to_string).join(", ")
                    )
                }
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    let others: Vec<_> = d
        .users
        .iter()
        .filter(|u| {
            u.status != "kept" || (u.rules_changed && u.gained.is_empty() && u.lost.is_empty())
        })
        .collect();
    if !others.is_empty() {
        out.push_str("\nusers:\n");
        for u in others {
            out.push_str(&match u.status {
                "added" => format!("  + {} ({})\n", u.user, u.file),
                "removed" => format!("  - {} ({})\n", u.user, u.file),
                _ => format!(
                    "  ~ {}: rules changed, no access change ({})\n",
                    u.user, u.file
                ),
            });
        }
    }
    if let Some(m) = d.metadata {
        out.push_str(&format!("\nmetadata.yaml: {m}\n"));
    }
    out
}

/// Inline code for Markdown, safe inside a table cell.
fn code(s: &str) -> String {
    let s = s.replace('|', "\\|").replace(['\n', '\r'], " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Most rows of one table in the Markdown (a pull-request comment has a size limit).
pub const MARKDOWN_ROWS: usize = 100;

/// Markdown for a pull-request comment.
pub fn markdown(d: &Diff) -> String {
    let mut out = format!("### kubevault diff {} → {}\n\n", code(&d.old), code(&d.new));
    if d.is_empty() {
        out.push_str("No access, secret, user or metadata changes.\n");
        return out;
    }
    let gainers = d.users.iter().filter(|u| !u.gained.is_empty()).count();
    let losers = d.users.iter().filter(|u| !u.lost.is_empty()).count();
    out.push_str("| change | count |\n|---|---:|\n");
    let rows = [
        ("**access gained** (user × secret)", d.gains(), gainers),
        ("**access lost** (user × secret)", d.losses(), losers),
    ];
    for (label, n, users) in rows {
        out.push_str(&format!(
            "| {label} | {n} ({}) |\n",
            plural(users, "user", "users")
        ));
    }
    for (label, n) in [
        ("secrets added", d.count(SecretChangeKind::Added)),
        ("secrets removed", d.count(SecretChangeKind::Removed)),
        ("secrets renamed", d.count(SecretChangeKind::Renamed)),
        ("secrets changed", d.count(SecretChangeKind::Changed)),
        ("users added", d.users_with("added").len()),
        ("users removed", d.users_with("removed").len()),
    ] {
        out.push_str(&format!("| {label} | {n} |\n"));
    }
    if let Some(m) = d.metadata {
        out.push_str(&format!("| `metadata.yaml` | {m} |\n"));
    }
    for (title, gain) in [("Access gained", true), ("Access lost", false)] {
        let users: Vec<_> = d
            .users
            .iter()
            .filter(|u| !(if gain { &u.gained } else { &u.lost }).is_empty())
            .collect();
        if users.is_empty() {
            continue;
        }
        out.push_str(&format!("\n#### {title}\n"));
        for u in users {
            let list = if gain { &u.gained } else { &u.lost };
            let status = match u.status {
                "added" => " — new user",
                "removed" => " — user removed",
                _ => "",
            };
            out.push_str(&format!(
                "\n**{}** ({}){status}: {}\n\n| secret | decided by | before |\n|---|---|---|\n",
                code(&u.user),
                code(&u.file),
                plural(list.len(), "secret", "secrets")
            ));
            for g in list.iter().take(MARKDOWN_ROWS) {
                let rule = match &g.rule {
                    Some(r) => format!(
                        "{} {}",
                        code(&format!("{}:{}", r.file, r.line)),
                        code(&r.pattern)
                    ),
                    None => decided(g),
                };
                let before = match (&g.was, g.why) {
                    (Some(w), _) => format!(
                        "{} {}",
                        code(&format!("{}:{}", w.file, w.line)),
                        code(&w.pattern)
                    ),
                    (None, "new secret") => "new secret".into(),
                    (None, "new user") => "new user".into(),
                    _ => "no rule matched".into(),
                };
                out.push_str(&format!("| {} | {rule} | {before} |\n", code(&g.identity)));
            }
            if list.len() > MARKDOWN_ROWS {
                out.push_str(&format!(
                    "\n… and {} more (`kubevault diff --format json` lists all)\n",
                    list.len() - MARKDOWN_ROWS
                ));
            }
        }
    }
    if !d.secrets.is_empty() {
        out.push_str("\n#### Secrets and keys\n\n| change | secret | keys |\n|---|---|---|\n");
        for s in d.secrets.iter().take(MARKDOWN_ROWS * 5) {
            let keys = |s: &SecretChange| {
                s.keys
                    .iter()
                    .map(|(k, _)| code(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let (what, keys) = match s.kind {
                SecretChangeKind::Added | SecretChangeKind::Removed => (code(&s.identity), keys(s)),
                SecretChangeKind::Renamed => {
                    let c = key_changes(s, code);
                    (
                        format!(
                            "{} → {}",
                            code(s.from.as_deref().unwrap_or("")),
                            code(&s.identity)
                        ),
                        if c.is_empty() {
                            "unchanged".into()
                        } else {
                            c.join(", ")
                        },
                    )
                }
                SecretChangeKind::Changed => (code(&s.identity), key_changes(s, code).join(", ")),
            };
            out.push_str(&format!("| {} | {what} | {keys} |\n", s.kind.as_str()));
        }
        if d.secrets.len() > MARKDOWN_ROWS * 5 {
            out.push_str(&format!(
                "\n… and {} more\n",
                d.secrets.len() - MARKDOWN_ROWS * 5
            ));
        }
    }
    let quiet: Vec<_> = d
        .users
        .iter()
        .filter(|u| u.status == "kept" && u.gained.is_empty() && u.lost.is_empty())
        .collect();
    if !quiet.is_empty() {
        out.push_str("\n#### Rules changed without an access change\n\n");
        for u in quiet {
            out.push_str(&format!("- {} ({})\n", code(&u.user), code(&u.file)));
        }
    }
    out.push_str("\n<sub>Values are never shown; keys of encrypted files without a key to open them are compared by ciphertext.</sub>\n");
    out
}

/// JSON for tools: everything, no limits.
pub fn json(d: &Diff) -> String {
    use serde_json::{Value, json};
    let rule = |r: &Option<super::diff::RuleRef>| -> Value {
        r.as_ref().map_or(
            Value::Null,
            |r| json!({"file": r.file, "line": r.line, "pattern": r.pattern, "allow": r.allow}),
        )
    };
    let grants = |list: &[Grant]| -> Vec<Value> {
        list.iter()
            .map(|g| json!({"identity": g.identity, "rule": rule(&g.rule), "was": rule(&g.was), "why": g.why}))
            .collect()
    };
    let secrets: Vec<Value> = d
        .secrets
        .iter()
        .map(|s| {
            json!({
                "change": s.kind.as_str(),
                "identity": s.identity,
                "from": s.from,
                "keys": s.keys.iter().map(|(k, c)| json!({"key": k, "change": c.map(|c| c.as_str())})).collect::<Vec<_>>(),
                "encryption": s.encryption.map(|(a, b)| json!({"old": a, "new": b})),
                "shape": s.shape.as_ref().map(|(a, b)| json!({"old": a, "new": b})),
            })
        })
        .collect();
    let users: Vec<Value> = d
        .users
        .iter()
        .map(|u| {
            json!({
                "user": u.user,
                "status": u.status,
                "file": u.file,
                "rulesChanged": u.rules_changed,
                "gained": grants(&u.gained),
                "lost": grants(&u.lost),
            })
        })
        .collect();
    let doc = json!({
        "old": d.old,
        "new": d.new,
        "summary": {
            "gained": d.gains(),
            "lost": d.losses(),
            "secretsAdded": d.count(SecretChangeKind::Added),
            "secretsRemoved": d.count(SecretChangeKind::Removed),
            "secretsRenamed": d.count(SecretChangeKind::Renamed),
            "secretsChanged": d.count(SecretChangeKind::Changed),
            "usersAdded": d.users_with("added"),
            "usersRemoved": d.users_with("removed"),
            "metadata": d.metadata,
        },
        "users": users,
        "secrets": secrets,
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}
