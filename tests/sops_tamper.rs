//! SOPS files tampered without the key, checked against the real sops 3.11 CLI
//! (`sops --disable-version-check decrypt`): kubevault must never render a value that sops would
//! not decrypt from the same file, in any mode.
//!
//! A leaf with a standard tag it does not parse as (`!!null text`, `!!int abc`, an invalid
//! `!!binary`) is read by sops as null: neither decrypted nor covered by the MAC. Such a leaf is
//! refused, whether the file's rules say it is encrypted or not. For every tampered file, what
//! sops prints is recorded, and when kubevault renders the file, each value must be the one sops
//! decrypts (or a null spelling where sops says null). A missing sops skips the test loudly, and
//! fails it under `CI=true`.

mod common;

use std::process::Command;

use base64::Engine;
use common::{SENTINEL, Sandbox, run, tools};
use kubevault::yaml::{Limits, Node, Value, parse_stream};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture")
}

/// What sops makes of a file: its decrypted mapping as `key -> Some(text)` / `None` for null, or
/// `Err` when sops refuses the file.
fn sops_decrypt(sb: &Sandbox, rel: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let out = Command::new("sops")
        .args(["--disable-version-check", "decrypt", "--input-type", "yaml"])
        .args(["--output-type", "yaml"])
        .arg(sb.path().join(rel))
        .env("SOPS_AGE_KEY_FILE", sb.path().join("keys.txt"))
        .env_remove("SOPS_AGE_KEY")
        .output()
        .expect("run sops");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).expect("sops prints UTF-8");
    let doc = parse_stream(&text, &Limits::default())
        .expect("sops prints YAML")
        .pop()
        .expect("one document");
    Ok(entries(&doc)
        .into_iter()
        .map(|(key, value)| {
            let null = value.is_null() && value.tag.is_none();
            (key, (!null).then(|| scalar_text(&value)))
        })
        .collect())
}

fn entries(doc: &Node) -> Vec<(String, Node)> {
    doc.as_map()
        .expect("a mapping")
        .iter()
        .map(|(k, v)| (k.as_str().expect("string key").to_string(), v.clone()))
        .collect()
}

fn scalar_text(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, .. } => text.clone(),
        _ => panic!("nested value"),
    }
}

/// The data of the one kvstore Secret in a `generate` stream, decoded.
fn rendered(stdout: &str) -> Vec<(String, String)> {
    let docs = parse_stream(stdout, &Limits::default()).expect("valid output");
    let secret = docs
        .iter()
        .find(|d| d.str_at(&["metadata", "name"]) == Some("db"))
        .expect("the db Secret");
    let Some(data) = secret.get("data") else {
        return Vec::new();
    };
    entries(data)
        .into_iter()
        .map(|(key, value)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(scalar_text(&value))
                .expect("base64");
            (key, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

/// How sops and go-yaml print a timestamp or number may differ from the text kubevault keeps
/// (the text as written): compare what both mean where sops printed a non-string.
fn same_value(sops: &str, ours: &str) -> bool {
    sops == ours
        || sops
            .parse::<f64>()
            .ok()
            .zip(ours.parse::<f64>().ok())
            .is_some_and(|(a, b)| a == b)
        || sops.trim_end_matches('\n') == ours.trim_end_matches('\n')
}

/// Every value kubevault rendered is one sops decrypts from the same file.
fn assert_matches_sops(case: &str, sops: &[(String, Option<String>)], ours: &[(String, String)]) {
    for (key, value) in ours {
        let Some((_, theirs)) = sops.iter().find(|(k, _)| k == key) else {
            panic!("{case}: kubevault rendered `{key}`, which sops does not decrypt");
        };
        match theirs {
            None => assert!(
                ["", "~", "null", "Null", "NULL"].contains(&value.as_str()),
                "{case}: `{key}` is null for sops but kubevault rendered text"
            ),
            Some(theirs) => assert!(
                same_value(theirs, value),
                "{case}: `{key}` differs from what sops decrypts"
            ),
        }
    }
}

struct Case {
    name: &'static str,
    fixture: &'static str,
    /// The tampered file, from the fixture's text.
    edit: Box<dyn Fn(&str) -> String>,
    /// The key that must be named in kubevault's error (`None`: kubevault renders the file).
    refused_key: Option<&'static str>,
}

/// Inserts `line` before the line starting with `before`.
fn insert(text: &str, before: &str, line: &str) -> String {
    let at = text
        .find(&format!("\n{before}"))
        .map(|i| i + 1)
        .expect("anchor line");
    format!("{}{line}\n{}", &text[..at], &text[at..])
}

/// Replaces the whole line starting with `start`.
fn replace_line(text: &str, start: &str, line: &str) -> String {
    text.lines()
        .map(|l| if l.starts_with(start) { line } else { l })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn cases() -> Vec<Case> {
    let s = |text: &str| text.replace("@S@", SENTINEL);
    let mut cases = Vec::new();
    let added = |name, fixture, line: &'static str, key| Case {
        name,
        fixture,
        edit: Box::new(move |text: &str| insert(text, "port: ", &s(line))),
        refused_key: Some(key),
    };
    // A new key in an encrypted position, with every standard tag that sops reads as null.
    for (name, line) in [
        ("added_null_tag_with_text", "extra: !!null @S@"),
        ("added_int_tag_with_text", "extra: !!int @S@"),
        ("added_bool_tag_with_text", "extra: !!bool @S@"),
        ("added_float_tag_with_text", "extra: !!float @S@"),
        ("added_timestamp_tag_with_text", "extra: !!timestamp @S@"),
        ("added_invalid_binary", "extra: !!binary @S@%%"),
        ("added_quoted_null_tag", "extra: !!null \"@S@\""),
        (
            "added_long_form_null_tag",
            "extra: !<tag:yaml.org,2002:null> @S@",
        ),
        ("added_plain_text", "extra: @S@"),
        ("added_str_tag", "extra: !!str @S@"),
    ] {
        cases.push(added(name, "flat.enc.yaml", line, "extra"));
    }
    // ... and in a position the rules leave in clear text (sops shows null there).
    cases.push(added(
        "added_unencrypted_null_tag_with_text",
        "flat.enc.yaml",
        "extra_unencrypted: !!null @S@",
        "extra_unencrypted",
    ));
    cases.push(added(
        "added_unencrypted_int_tag_with_text",
        "flat.enc.yaml",
        "extra_unencrypted: !!int @S@",
        "extra_unencrypted",
    ));
    // Overwriting a value sops left unencrypted or empty.
    for (name, fixture, start, line, key) in [
        (
            "empty_overwritten_by_null_tag",
            "flat.enc.yaml",
            "empty: ",
            "empty: !!null @S@",
            "empty",
        ),
        (
            "null_overwritten_by_timestamp_tag",
            "flat.enc.yaml",
            "bare: ",
            "bare: !!timestamp @S@",
            "bare",
        ),
        (
            "mac_only_clear_value_null_tag",
            "mac_only_encrypted.enc.yaml",
            "host: ",
            "host: !!null @S@",
            "host",
        ),
        (
            "encrypted_regex_clear_value_bool_tag",
            "encrypted_regex.enc.yaml",
            "host: ",
            "host: !!bool @S@",
            "host",
        ),
    ] {
        cases.push(Case {
            name,
            fixture,
            edit: Box::new(move |text: &str| replace_line(text, start, &s(line))),
            refused_key: Some(key),
        });
    }
    // Controls that kubevault renders: the untouched files, and an added real null.
    for fixture in [
        "flat.enc.yaml",
        "mac_only_encrypted.enc.yaml",
        "encrypted_regex.enc.yaml",
    ] {
        cases.push(Case {
            name: "untouched",
            fixture,
            edit: Box::new(str::to_string),
            refused_key: None,
        });
    }
    cases.push(Case {
        name: "added_real_null",
        fixture: "flat.enc.yaml",
        edit: Box::new(|text: &str| insert(text, "port: ", "extra: ~")),
        refused_key: None,
    });
    cases.push(Case {
        name: "mac_only_clear_value_changed",
        fixture: "mac_only_encrypted.enc.yaml",
        edit: Box::new(|text: &str| replace_line(text, "host: ", "host: other.example.com")),
        refused_key: None,
    });
    cases
}

const FN_CONFIG: &str = "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: test\nspec:\n  vaultDir: vault\n  decryption:\n    ageKeyFile: keys.txt\n";

#[test]
fn tampered_files_never_render_what_sops_would_not_decrypt() {
    if !tools::sops("tampered_files_never_render_what_sops_would_not_decrypt") {
        return;
    }
    for case in cases() {
        let label = format!("{} ({})", case.name, case.fixture);
        let sb = Sandbox::vault();
        sb.file("keys.txt", fixture("keys.txt"));
        sb.file("vault/access_control/alice", "db\n");
        let tampered = (case.edit)(&fixture(case.fixture));
        sb.file("vault/kvstore/db.yaml", &tampered);
        let sops = sops_decrypt(&sb, "vault/kvstore/db.yaml");
        if let Ok(values) = &sops {
            // sops never shows the planted text: it reads such leaves as null.
            assert!(
                values
                    .iter()
                    .all(|(_, v)| !v.as_deref().unwrap_or("").contains(SENTINEL)),
                "{label}: sops decrypted the planted text"
            );
        }

        let list = common::resource_list("", FN_CONFIG);
        let runs = [
            (
                "generate",
                run(
                    sb.path(),
                    &[
                        "generate",
                        "--vault-dir",
                        "vault",
                        "--age-key-file",
                        "keys.txt",
                    ],
                    None,
                    &[],
                ),
            ),
            (
                "check",
                run(
                    sb.path(),
                    &[
                        "check",
                        "--vault-dir",
                        "vault",
                        "--age-key-file",
                        "keys.txt",
                    ],
                    None,
                    &[],
                ),
            ),
            ("krm", run(sb.path(), &[], Some(list.as_bytes()), &[])),
            ("plugin", {
                sb.file("plugin.yaml", FN_CONFIG);
                run(sb.path(), &["plugin.yaml"], None, &[])
            }),
        ];
        for (mode, out) in &runs {
            out.assert_no_sentinel();
            match case.refused_key {
                Some(key) => {
                    assert_eq!(out.code, 1, "{label} {mode}: {}", out.stderr);
                    // `check` prints its report on stdout, the other modes on stderr.
                    let shown = format!("{}{}", out.stdout, out.stderr);
                    assert!(
                        shown.contains("kvstore/db.yaml:") && shown.contains(&format!("\"{key}\"")),
                        "{label} {mode}: the error names file, line and key:\n{shown}"
                    );
                }
                None => assert_eq!(out.code, 0, "{label} {mode}: {}", out.stderr),
            }
        }
        if case.refused_key.is_none() {
            let sops = sops.unwrap_or_else(|e| panic!("{label}: sops refused it: {e}"));
            assert_matches_sops(&label, &sops, &rendered(&runs[0].1.stdout));
        }
    }
}
