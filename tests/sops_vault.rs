//! SOPS-encrypted kvstore files through the real binary: decrypted in memory, rendered like any
//! other secret, and failing closed (no key, wrong key, tampering) without printing plaintext.

mod common;

use base64::Engine as _;
use common::{FN_CONFIG, Sandbox, resource_list, run};
use kubevault::yaml::{Limits, Node, parse_stream};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sops")
}

/// Plaintext values of the fixture: none may ever show up in a failing run's output.
const PLAINTEXTS: &[&str] = &[
    "SENTINEL-flat-password-7f3a",
    "SENTINEL-flat-certificate-body",
    "SENTINEL-binary",
];

fn mixed_vault() -> Sandbox {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/plain/app", "k: plain-value\n");
    sb.file(
        "vault/kvstore/enc/flat.yaml",
        std::fs::read(fixtures().join("flat.enc.yaml")).unwrap(),
    );
    sb.file("vault/access_control/alice", "**\n");
    sb
}

fn secret_data(stdout: &str, name: &str) -> Vec<(String, String)> {
    let doc = parse_stream(stdout, &Limits::default()).unwrap().remove(0);
    let items = doc.get("items").and_then(Node::as_seq).unwrap();
    let secret = items
        .iter()
        .find(|i| i.str_at(&["metadata", "name"]) == Some(name))
        .expect(name);
    secret
        .get("data")
        .and_then(Node::as_map)
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap();
            (
                k.as_str().unwrap().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            )
        })
        .collect()
}

fn assert_no_plaintext(out: &common::Output) {
    for p in PLAINTEXTS {
        assert!(
            !out.stdout.contains(p) && !out.stderr.contains(p),
            "{p} leaked:\n{}\n{}",
            out.stdout,
            out.stderr
        );
    }
}

#[test]
fn encrypted_and_plain_files_render_together() {
    let sb = mixed_vault();
    let key = fixtures().join("keys.txt").display().to_string();
    let out = run(
        sb.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[("SOPS_AGE_KEY_FILE", &key)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data = secret_data(&out.stdout, "enc-flat");
    let get = |k: &str| {
        data.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("password"), Some("SENTINEL-flat-password-7f3a"));
    assert_eq!(get("username"), Some("app-user"));
    assert_eq!(get("port"), Some("5432"));
    assert_eq!(get("note_unencrypted"), Some("visible in git"));
    assert!(get("tls.crt").is_some_and(|v| v.contains("SENTINEL-flat-certificate-body\n")));
    assert!(
        get("sops").is_none() && !out.stdout.contains("ENC["),
        "sops metadata never reaches a Secret"
    );
    assert_eq!(
        secret_data(&out.stdout, "plain-app"),
        [("k".to_string(), "plain-value".to_string())]
    );
}

#[test]
fn the_function_config_names_the_key_file() {
    let sb = mixed_vault();
    sb.file(
        "keys/age.txt",
        std::fs::read(fixtures().join("keys.txt")).unwrap(),
    );
    let config = format!("{FN_CONFIG}  decryption:\n    ageKeyFile: keys/age.txt\n");
    let out = run(
        sb.path(),
        &[],
        Some(resource_list("", &config).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run(
        sb.path(),
        &[
            "generate",
            "--vault-dir",
            "vault",
            "--age-key-file",
            "keys/age.txt",
        ],
        None,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("name: enc-flat"));
}

#[test]
fn no_key_wrong_key_and_tampering_fail_closed() {
    let sb = mixed_vault();
    let no_key = run(
        sb.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(no_key.code, 1);
    assert!(
        no_key
            .stderr
            .contains("kvstore/enc/flat.yaml: error: cannot decrypt: no age key available"),
        "{}",
        no_key.stderr
    );
    assert_no_plaintext(&no_key);

    let wrong = fixtures().join("other_keys.txt").display().to_string();
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault"],
        None,
        &[("SOPS_AGE_KEY_FILE", &wrong)],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "kvstore/enc/flat.yaml: error: cannot decrypt: none of the available age keys"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_no_plaintext(&out);

    let text = std::fs::read_to_string(fixtures().join("flat.enc.yaml")).unwrap();
    let at = text.find("password: ENC[AES256_GCM,data:").unwrap()
        + "password: ENC[AES256_GCM,data:".len();
    let flipped = if &text[at..at + 1] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &text[..at], &text[at + 1..]);
    sb.file("vault/kvstore/enc/flat.yaml", tampered);
    let key = fixtures().join("keys.txt").display().to_string();
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault"],
        None,
        &[("SOPS_AGE_KEY_FILE", &key)],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("kvstore/enc/flat.yaml:"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("password"),
        "names the key: {}",
        out.stderr
    );
    assert_no_plaintext(&out);
}
