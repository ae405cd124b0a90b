//! SPEC §9: every read-only command answers without the private key. `check`, `can-read`,
//! `who-can-read` and `external-secret` run on vaults holding SOPS-encrypted files with no age
//! key at all: exit 0 and the same answer as with the key (`check` adds one note saying what it
//! skipped). Rendering still needs the key, and a key file the operator names but that does not
//! exist is an error even when nothing is encrypted.

mod common;

use std::path::{Path, PathBuf};

use common::{Output, Sandbox, repo, run};

const VAULT: &str = "examples/quickstart/vault";

fn key() -> PathBuf {
    repo().join("examples/quickstart/age-key.txt")
}

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/sops")
}

fn with_key(cwd: &Path, args: &[&str], key: &Path) -> Output {
    run(
        cwd,
        args,
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    )
}

fn without_key(cwd: &Path, args: &[&str]) -> Output {
    run(cwd, args, None, &[])
}

/// Every question of every read-only command about a vault: the same with and without key.
fn same_answers(cwd: &Path, vault: &str, key: &Path, users: &[&str], identities: &[&str]) {
    let mut questions: Vec<Vec<&str>> = Vec::new();
    for user in users {
        questions.push(vec!["can-read", user, "--vault-dir", vault]);
        questions.push(vec![
            "can-read",
            user,
            "--vault-dir",
            vault,
            "--show-only-allowed",
        ]);
    }
    for identity in identities {
        questions.push(vec!["who-can-read", identity, "--vault-dir", vault]);
        questions.push(vec!["external-secret", identity, "--vault-dir", vault]);
    }
    for args in &questions {
        let keyed = with_key(cwd, args, key);
        let keyless = without_key(cwd, args);
        assert_eq!(keyed.code, 0, "{args:?} with the key: {}", keyed.stderr);
        assert_eq!(
            keyless.code, 0,
            "{args:?} without a key: {}",
            keyless.stderr
        );
        assert_eq!(keyed.stdout, keyless.stdout, "{args:?}");
        assert_eq!(keyed.stderr, keyless.stderr, "{args:?}");
        assert!(!keyless.stdout.is_empty(), "{args:?} answered nothing");
    }
}

#[test]
fn quickstart_answers_without_the_key() {
    same_answers(
        repo(),
        VAULT,
        &key(),
        &["alice", "bob", "carol"],
        &[
            "production/payments/db",
            "production/payments/stripe",
            "shared/smtp",
            "shared/tls",
            "staging/app/config",
        ],
    );
}

#[test]
fn check_without_a_key_checks_what_it_can_and_says_what_it_skipped() {
    let keyed = with_key(repo(), &["check", "--vault-dir", VAULT], &key());
    let keyless = without_key(repo(), &["check", "--vault-dir", VAULT]);
    assert_eq!(
        (keyed.code, keyless.code),
        (0, 0),
        "{}{}",
        keyed.stdout,
        keyless.stdout
    );
    let notes: Vec<&str> = keyless
        .stdout
        .lines()
        .filter(|l| l.starts_with("note: "))
        .collect();
    assert_eq!(notes.len(), 1, "{}", keyless.stdout);
    assert!(
        notes[0].contains("kvstore/shared/smtp.yaml"),
        "{}",
        notes[0]
    );
    assert!(notes[0].contains("MAC"), "{}", notes[0]);
    let rest: Vec<&str> = keyless
        .stdout
        .lines()
        .filter(|l| !l.starts_with("note: "))
        .collect();
    assert_eq!(rest, keyed.stdout.lines().collect::<Vec<_>>());
    // JSON names the skipped files too.
    let json = without_key(repo(), &["check", "--vault-dir", VAULT, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["ok"], true);
    assert_eq!(doc["skipped"]["undecrypted"][0], "kvstore/shared/smtp.yaml");
    let doc: serde_json::Value = serde_json::from_str(
        &with_key(
            repo(),
            &["check", "--vault-dir", VAULT, "--format", "json"],
            &key(),
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(doc["skipped"]["undecrypted"], serde_json::json!([]));
}

/// A vault whose every secret file is encrypted (the sops test vectors: flat values, regexes,
/// suffixes, mac_only_encrypted, two recipients).
fn all_encrypted() -> Sandbox {
    let sb = Sandbox::vault();
    for name in [
        "encrypted_regex",
        "flat",
        "mac_only_encrypted",
        "two_recipients",
        "unencrypted_regex",
    ] {
        let text = std::fs::read(fixtures().join(format!("{name}.enc.yaml"))).unwrap();
        sb.file(&format!("vault/kvstore/enc/{name}.yaml"), text);
    }
    sb.file("vault/access_control/alice", "enc/**\n!enc/flat\n");
    sb.file("vault/access_control/bob", "enc/flat\nenc/two_*\n");
    sb
}

#[test]
fn a_fully_encrypted_vault_answers_without_the_key() {
    let sb = all_encrypted();
    let key = fixtures().join("keys.txt");
    same_answers(
        sb.path(),
        "vault",
        &key,
        &["alice", "bob"],
        &[
            "enc/encrypted_regex",
            "enc/flat",
            "enc/mac_only_encrypted",
            "enc/two_recipients",
            "enc/unencrypted_regex",
        ],
    );
    let keyed = with_key(sb.path(), &["check"], &key);
    let keyless = without_key(sb.path(), &["check"]);
    assert_eq!(
        (keyed.code, keyless.code),
        (0, 0),
        "{}\n{}",
        keyed.stdout,
        keyless.stdout
    );
    assert!(
        keyless.stdout.contains("5 encrypted files"),
        "{}",
        keyless.stdout
    );
}

#[test]
fn rendering_still_needs_the_key() {
    let out = without_key(repo(), &["generate", "--vault-dir", VAULT]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("no age key"), "{}", out.stderr);
}

#[test]
fn a_mistyped_key_file_is_an_error_even_when_nothing_is_encrypted() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    sb.file("vault/access_control/alice", "app\n");
    for args in [
        vec![
            "generate",
            "--vault-dir",
            "vault",
            "--age-key-file",
            "/typo.txt",
        ],
        vec![
            "check",
            "--vault-dir",
            "vault",
            "--age-key-file",
            "/typo.txt",
        ],
    ] {
        let out = without_key(sb.path(), &args);
        assert_eq!(out.code, 1, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(all(&out).contains("/typo.txt"), "{args:?}: {}", all(&out));
        assert!(
            all(&out).contains("no such file"),
            "{args:?}: {}",
            all(&out)
        );
    }
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault"],
        None,
        &[("SOPS_AGE_KEY_FILE", "/typo.txt")],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("SOPS_AGE_KEY_FILE"), "{}", out.stderr);
    // Without any key named, a plain vault renders.
    assert_eq!(
        without_key(sb.path(), &["generate", "--vault-dir", "vault"]).code,
        0
    );
}

fn all(out: &Output) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn structural_errors_in_encrypted_files_show_with_or_without_the_key() {
    let sb = Sandbox::vault();
    sb.file(
        "vault/kvstore/enc/edge_types.yaml",
        std::fs::read(fixtures().join("edge_types.enc.yaml")).unwrap(),
    );
    sb.file("vault/access_control/alice", "enc/**\n");
    let keyed = with_key(sb.path(), &["check"], &fixtures().join("keys.txt"));
    let keyless = without_key(sb.path(), &["check"]);
    assert_eq!((keyed.code, keyless.code), (1, 1));
    let errors = |out: &Output| -> Vec<String> {
        out.stdout
            .lines()
            .filter(|l| l.contains(": error: "))
            .map(String::from)
            .collect()
    };
    assert!(!errors(&keyed).is_empty());
    assert_eq!(errors(&keyed), errors(&keyless));
}
