//! sops' binary format against the real sops 3.11 CLI: `sops encrypt -i` on a file whose name has
//! no `.yaml` extension stores the whole text as one value (JSON); kubevault renders it as the
//! secret file it was, answers every read-only question about it without a key, and writes it
//! back in that format (`set`, `unset`, `edit`, `rekey --rotate`) so that sops still decrypts it;
//! what kubevault itself encrypts under such a name is YAML that sops reads with
//! `--input-type yaml`.
//!
//! Tests skip when sops is missing, except under `CI=true`, where they fail.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Output, SENTINEL, Sandbox, run, tools};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const RECIPIENT: &str = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";
const PLAIN: &str = "# the payments database\nuser: app\npin: \"0080\"\n";

/// A vault with the test key, a `.sops.yaml` beside `vault/`, `kvstore/app/db` (no extension)
/// in clear text and a user `alice` who reads it.
fn plain_vault() -> Sandbox {
    let s = Sandbox::vault();
    s.file(
        "keys.txt",
        std::fs::read(format!("{FIXTURES}/keys.txt")).unwrap(),
    );
    s.file(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: vault/kvstore/\n    age: {RECIPIENT}\n"),
    );
    s.file(
        "vault/kvstore/app/db",
        format!("{PLAIN}password: \"{SENTINEL}\"\n"),
    );
    s.file("vault/access_control/alice", "app/**\n");
    s
}

/// [`plain_vault`] with `kvstore/app/db` encrypted by sops itself and a second user.
fn sops_binary_vault() -> Sandbox {
    let s = plain_vault();
    s.file("vault/access_control/bob", "other/**\n");
    let out = sops(&s, s.path(), &["encrypt", "-i", "vault/kvstore/app/db"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored = read(&s, "vault/kvstore/app/db");
    assert!(
        stored.starts_with('{') && stored.contains("\"data\": \"ENC[") && !stored.contains("user"),
        "sops did not use its binary format:\n{stored}"
    );
    s
}

fn sops(s: &Sandbox, cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new("sops")
        .arg("--disable-version-check")
        .args(args)
        .env("SOPS_AGE_KEY_FILE", s.path().join("keys.txt"))
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn read(s: &Sandbox, rel: &str) -> String {
    std::fs::read_to_string(s.path().join(rel)).unwrap()
}

/// kubevault in the sandbox, with the key (`keyed`) or with none at all.
fn kv(s: &Sandbox, args: &[&str], keyed: bool) -> Output {
    let key = s.path().join("keys.txt");
    let env: &[(&str, &str)] = if keyed {
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())]
    } else {
        &[]
    };
    let out = run(s.path(), args, None, env);
    out.assert_no_sentinel();
    out
}

/// The `data` of Secret `name` in a YAML stream, decoded.
fn secret_data(stream: &str, name: &str) -> Vec<(String, String)> {
    use base64::Engine;
    use serde::Deserialize;
    let doc = serde_yaml::Deserializer::from_str(stream)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Secret {name} in:\n{stream}"));
    doc["data"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap())
                .unwrap();
            (
                k.as_str().unwrap().to_string(),
                String::from_utf8(bytes).unwrap(),
            )
        })
        .collect()
}

fn want_data() -> Vec<(String, String)> {
    [("password", SENTINEL), ("pin", "0080"), ("user", "app")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_file_sops_encrypted_in_its_binary_format_renders_as_the_file_it_was() {
    if !tools::sops("a_file_sops_encrypted_in_its_binary_format_renders_as_the_file_it_was") {
        return;
    }
    let s = sops_binary_vault();
    let rendered = run(
        s.path(),
        &["generate", "--vault-dir", "vault"],
        None,
        &[(
            "SOPS_AGE_KEY_FILE",
            s.path().join("keys.txt").to_str().unwrap(),
        )],
    );
    assert_eq!(rendered.code, 0, "{}", rendered.stderr);
    // Not one key `data` holding the whole file: the file's own keys, values as written.
    assert_eq!(secret_data(&rendered.stdout, "app-db"), want_data());
    let check = kv(&s, &["check", "--vault-dir", "vault"], true);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("check passed"), "{}", check.stdout);
    // sops and kubevault agree on the plaintext.
    let out = sops(&s, s.path(), &["decrypt", "vault/kvstore/app/db"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("{PLAIN}password: \"{SENTINEL}\"\n")
    );
}

#[test]
fn read_only_commands_answer_about_a_binary_format_file_without_a_key() {
    if !tools::sops("read_only_commands_answer_about_a_binary_format_file_without_a_key") {
        return;
    }
    let s = sops_binary_vault();
    let check = kv(&s, &["check", "--vault-dir", "vault"], false);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        format!("{}{}", check.stdout, check.stderr)
            .contains("the keys of kvstore/app/db (sops binary format) are unknown"),
        "{}{}",
        check.stdout,
        check.stderr
    );
    for args in [
        &["who-can-read", "app/db", "--vault-dir", "vault"][..],
        &["can-read", "alice", "--vault-dir", "vault"],
        &["can-read", "bob", "--vault-dir", "vault"],
    ] {
        let keyless = kv(&s, args, false);
        let keyed = kv(&s, args, true);
        assert_eq!(keyless.code, 0, "{args:?}: {}", keyless.stderr);
        assert_eq!(keyless.stdout, keyed.stdout, "{args:?}");
    }
    let who = kv(
        &s,
        &["who-can-read", "app/db", "--vault-dir", "vault"],
        false,
    );
    assert!(who.stdout.contains("alice"), "{}", who.stdout);
}

/// The decrypted text of a file, by the sops CLI.
fn sops_plaintext(s: &Sandbox, rel: &str) -> String {
    let out = sops(s, s.path(), &["decrypt", rel]);
    assert!(
        out.status.success(),
        "sops cannot decrypt {rel}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        read(s, rel)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn assert_binary_format(s: &Sandbox) {
    let stored = read(s, "vault/kvstore/app/db");
    assert!(
        stored.starts_with("{\n\t\"data\": \"ENC[") && !stored.contains("user"),
        "not sops' binary format any more:\n{stored}"
    );
}

#[test]
fn kubevault_writes_a_binary_format_file_back_in_that_format_and_sops_reads_it() {
    if !tools::sops("kubevault_writes_a_binary_format_file_back_in_that_format_and_sops_reads_it") {
        return;
    }
    let s = sops_binary_vault();
    let rel = "vault/kvstore/app/db";
    // `show` prints the secret file sops stored, not the `data` wrapper.
    // (`show` prints values by design: no sentinel check on it.)
    let key = s.path().join("keys.txt");
    let show = run(
        s.path(),
        &["show", "app/db"],
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.starts_with(PLAIN), "{}", show.stdout);

    let set = kv(&s, &["set", "app/db", "user=other", "port=5432"], true);
    assert_eq!(set.code, 0, "{}", set.stderr);
    assert_binary_format(&s);
    assert_eq!(
        sops_plaintext(&s, rel),
        format!(
            "# the payments database\nuser: other\npin: \"0080\"\npassword: \"{SENTINEL}\"\nport: \"5432\"\n"
        )
    );
    // Setting what is already there changes nothing, not even `lastmodified`.
    let before = read(&s, rel);
    let again = kv(&s, &["set", "app/db", "user=other"], true);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(read(&s, rel), before);

    let unset = kv(&s, &["unset", "app/db", "port"], true);
    assert_eq!(unset.code, 0, "{}", unset.stderr);
    assert_binary_format(&s);
    assert!(!sops_plaintext(&s, rel).contains("port"));

    // `edit` with a scripted editor.
    let edit = run(
        s.path(),
        &["edit", "app/db"],
        None,
        &[
            ("SOPS_AGE_KEY_FILE", key.to_str().unwrap()),
            ("EDITOR", "sed -i s/other/edited/"),
        ],
    );
    assert_eq!(edit.code, 0, "{}", edit.stderr);
    assert_binary_format(&s);
    assert!(sops_plaintext(&s, rel).contains("user: edited"));

    // `rekey --rotate`: a new data key, still the binary format, still readable by sops.
    let old = read(&s, rel);
    let rekey = kv(&s, &["rekey", "--rotate"], true);
    assert_eq!(rekey.code, 0, "{}", rekey.stderr);
    assert!(
        rekey.stderr.contains("rekeyed kvstore/app/db"),
        "{}",
        rekey.stderr
    );
    assert_binary_format(&s);
    assert_ne!(read(&s, rel), old);
    let plain = sops_plaintext(&s, rel);
    assert!(
        plain.contains("user: edited") && plain.contains(SENTINEL),
        "{plain}"
    );

    // `rekey` for a new recipient: its stanza added, values and MAC kept; the new key opens it.
    let other = std::fs::read_to_string(format!("{FIXTURES}/other_keys.txt")).unwrap();
    let other_recipient = other
        .split_whitespace()
        .find(|w| w.starts_with("age1"))
        .unwrap();
    s.file(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: vault/kvstore/\n    age: {RECIPIENT},{other_recipient}\n"
        ),
    );
    let rekey = kv(&s, &["rekey"], true);
    assert_eq!(rekey.code, 0, "{}", rekey.stderr);
    assert_binary_format(&s);
    s.file("other_keys.txt", other.as_bytes());
    let out = Command::new("sops")
        .args(["--disable-version-check", "decrypt", rel])
        .env("SOPS_AGE_KEY_FILE", s.path().join("other_keys.txt"))
        .current_dir(s.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), plain);

    // And kubevault renders what sops decrypts.
    let rendered = kv(&s, &["generate", "--vault-dir", "vault"], true);
    assert_eq!(rendered.code, 0, "{}", rendered.stderr);
    let data = secret_data(&rendered.stdout, "app-db");
    assert!(data.contains(&("user".into(), "edited".into())), "{data:?}");
    assert!(data.contains(&("pin".into(), "0080".into())), "{data:?}");
}

#[test]
fn an_extensionless_file_kubevault_encrypts_is_yaml_that_sops_reads_with_input_type_yaml() {
    if !tools::sops(
        "an_extensionless_file_kubevault_encrypts_is_yaml_that_sops_reads_with_input_type_yaml",
    ) {
        return;
    }
    let s = plain_vault();
    let out = kv(&s, &["encrypt"], true);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = sops(
        &s,
        s.path(),
        &[
            "decrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "vault/kvstore/app/db",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = String::from_utf8(out.stdout).unwrap();
    assert!(
        plain.contains("user: app") && plain.contains(SENTINEL),
        "{plain}"
    );
    let rendered = kv(&s, &["generate", "--vault-dir", "vault"], true);
    assert_eq!(secret_data(&rendered.stdout, "app-db"), want_data());
}
