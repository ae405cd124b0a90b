//! Authoring commands against the real sops 3.11 CLI: what kubevault writes, sops decrypts (MAC
//! verified) to exactly the values set; what sops writes, kubevault edits with minimal diffs;
//! creation-rule options, rekey (and `--rotate`) agree with `sops updatekeys`; `edit` with a
//! scripted editor; `who-can-decrypt` and the recipient-drift warning.
//!
//! Tests that need the sops CLI skip when it is missing, except under `CI=true`, where they fail.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Output, SENTINEL, Sandbox, run, tools};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const MAIN: &str = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";

fn other_recipient() -> String {
    let text = std::fs::read_to_string(format!("{FIXTURES}/other_keys.txt")).unwrap();
    text.split_whitespace()
        .find(|w| w.starts_with("age1"))
        .unwrap()
        .to_string()
}

/// A sandbox with a vault, the test keys and a `.sops.yaml` at the sandbox root.
fn vault(rules: &str) -> Sandbox {
    let s = Sandbox::vault();
    s.file(
        "keys.txt",
        std::fs::read(format!("{FIXTURES}/keys.txt")).unwrap(),
    );
    s.file(
        "other_keys.txt",
        std::fs::read(format!("{FIXTURES}/other_keys.txt")).unwrap(),
    );
    if !rules.is_empty() {
        s.file(".sops.yaml", rules);
    }
    s.file("vault/access_control/alice", "**\n");
    s
}

fn rules_for(recipients: &str, extra: &str) -> String {
    format!("creation_rules:\n  - path_regex: vault/kvstore/\n    age: {recipients}\n{extra}")
}

fn kv(s: &Sandbox, args: &[&str]) -> Output {
    kv_in(s, args, None)
}

fn kv_in(s: &Sandbox, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let key = s.path().join("keys.txt");
    let out = run(
        s.path(),
        args,
        stdin,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    out.assert_no_sentinel();
    out
}

fn ok(out: &Output) {
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
}

/// `sops decrypt FILE` with the given key file: the values as strings.
fn sops_decrypt(s: &Sandbox, rel: &str, keys: &str) -> Result<BTreeMap<String, String>, String> {
    let out = Command::new("sops")
        .args(["--disable-version-check", "decrypt"])
        .arg(s.path().join(rel))
        .env("SOPS_AGE_KEY_FILE", s.path().join(keys))
        .current_dir(s.path())
        .output()
        .unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let map: serde_yaml::Mapping = serde_yaml::from_str(&text).unwrap();
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                serde_yaml::Value::String(s) => s,
                serde_yaml::Value::Null => String::new(),
                other => serde_yaml::to_string(&other)
                    .unwrap()
                    .trim_end()
                    .to_string(),
            };
            (k.as_str().unwrap().to_string(), value)
        })
        .collect())
}

fn sops_cmd(s: &Sandbox, args: &[&str]) -> std::process::Output {
    Command::new("sops")
        .arg("--disable-version-check")
        .args(args)
        .env("SOPS_AGE_KEY_FILE", s.path().join("keys.txt"))
        .current_dir(s.path())
        .output()
        .unwrap()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn read(s: &Sandbox, rel: &str) -> String {
    std::fs::read_to_string(s.path().join(rel)).unwrap()
}

/// The `key: ENC[...]` lines of a file, by key.
fn enc_lines(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with(' ') && l.contains(": ENC["))
        .map(|l| {
            let (k, _) = l.split_once(':').unwrap();
            (k.to_string(), l.to_string())
        })
        .collect()
}

/// The `data` of the rendered Secret `name`.
fn rendered_data(stream: &str, name: &str) -> serde_yaml::Value {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(stream)
        .map(|d| serde_yaml::Value::deserialize(d).unwrap())
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Secret {name} in:\n{stream}"))["data"]
        .clone()
}

/// Every line of `before` except those starting with one of `changing` is in `after`, in order.
fn assert_kept(before: &str, after: &str, changing: &[&str]) {
    let mut rest = after.lines();
    for line in before.lines() {
        if changing.iter().any(|p| line.starts_with(p)) {
            continue;
        }
        assert!(
            rest.any(|l| l == line),
            "line {line:?} was changed or moved\nbefore:\n{before}\nafter:\n{after}"
        );
    }
}

#[test]
fn set_writes_files_that_sops_decrypts_to_the_strings_set() {
    if !tools::sops("set_writes_files_that_sops_decrypts_to_the_strings_set") {
        return;
    }
    let s = vault(&rules_for(MAIN, ""));
    s.file("cert.bin", [0u8, 159, 146, 150, 255]);
    s.file("cert.pem", "-----BEGIN X-----\nabc\n-----END X-----\n");
    ok(&kv_in(
        &s,
        &[
            "set",
            "app/db",
            "pin=0080",
            "ver=1.10",
            "flag=on",
            "empty=",
            "pw=%random:24",
            "at=@@home",
            "bin=@cert.bin",
            "pem=@cert.pem",
            "token=-",
        ],
        Some(SENTINEL.as_bytes()),
    ));
    let text = read(&s, "vault/kvstore/app/db.yaml");
    assert!(!text.contains(SENTINEL) && !text.contains("0080"), "{text}");
    let values = sops_decrypt(&s, "vault/kvstore/app/db.yaml", "keys.txt").unwrap();
    assert_eq!(values["pin"], "0080");
    assert_eq!(values["ver"], "1.10");
    assert_eq!(values["flag"], "on");
    assert_eq!(values["empty"], "");
    assert_eq!(values["at"], "@home");
    assert_eq!(values["token"], SENTINEL);
    assert_eq!(values["pem"], "-----BEGIN X-----\nabc\n-----END X-----\n");
    let pw = &values["pw"];
    assert_eq!(pw.len(), 24);
    assert!(pw.chars().all(|c| c.is_ascii_alphanumeric()));
    // kubevault renders the same bytes, the binary file included.
    let out = kv(&s, &["generate", "--vault-dir", "vault"]);
    ok(&out);
    let data = rendered_data(&out.stdout, "app-db");
    let data = &data;
    use base64::Engine;
    let b64 = |v: &[u8]| base64::engine::general_purpose::STANDARD.encode(v);
    assert_eq!(data["pin"].as_str(), Some(b64(b"0080").as_str()));
    assert_eq!(
        data["bin"].as_str(),
        Some(b64(&[0, 159, 146, 150, 255]).as_str())
    );
}

#[test]
fn a_new_file_without_a_rule_needs_plaintext() {
    let s = vault("");
    let out = kv(&s, &["set", "app/db", "a=1"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("--plaintext"), "{}", out.stderr);
    ok(&kv(&s, &["set", "app/db", "a=0080", "--plaintext"]));
    assert_eq!(read(&s, "vault/kvstore/app/db.yaml"), "a: \"0080\"\n");
    let mode = std::fs::metadata(s.path().join("vault/kvstore/app/db.yaml")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
}

#[test]
fn editing_a_sops_file_keeps_every_unchanged_ciphertext() {
    if !tools::sops("editing_a_sops_file_keeps_every_unchanged_ciphertext") {
        return;
    }
    let s = vault(&rules_for(MAIN, ""));
    s.file(
        "vault/kvstore/app/db.yaml",
        "# database credentials\nuser: admin\n\n# the password\npassword: hunter2\nport: 5432\nnote_unencrypted: kept in clear\n",
    );
    let out = sops_cmd(&s, &["encrypt", "-i", "vault/kvstore/app/db.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = read(&s, "vault/kvstore/app/db.yaml");
    ok(&kv(&s, &["set", "app/db", "password=s3cret", "extra=1"]));
    let after = read(&s, "vault/kvstore/app/db.yaml");
    assert_kept(
        &before,
        &after,
        &["password:", "    lastmodified:", "    mac:"],
    );
    let b = enc_lines(&before);
    let a = enc_lines(&after);
    assert_eq!(a["user"], b["user"]);
    assert_eq!(a["port"], b["port"]);
    assert_ne!(a["password"], b["password"]);
    // Comments (encrypted by sops) and blank lines stay where they were.
    let comments = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with('#') || l.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(comments(&before), comments(&after));
    let values = sops_decrypt(&s, "vault/kvstore/app/db.yaml", "keys.txt").unwrap();
    assert_eq!(
        values,
        map(&[
            ("user", "admin"),
            ("password", "s3cret"),
            ("port", "5432"),
            ("note_unencrypted", "kept in clear"),
            ("extra", "1"),
        ])
    );
    // `edit` of the sops-written file: only the edited value changes.
    let before_edit = read(&s, "vault/kvstore/app/db.yaml");
    ok(&edit_with(&s, "sed -i 's/^user: .*/user: root/' \"$1\"\n"));
    let edited = read(&s, "vault/kvstore/app/db.yaml");
    assert_kept(
        &before_edit,
        &edited,
        &["user:", "    lastmodified:", "    mac:"],
    );
    assert_eq!(
        sops_decrypt(&s, "vault/kvstore/app/db.yaml", "keys.txt").unwrap()["user"],
        "root"
    );
    // unset removes only that entry.
    ok(&kv(&s, &["unset", "app/db", "extra"]));
    let unset = read(&s, "vault/kvstore/app/db.yaml");
    assert_eq!(enc_lines(&unset)["user"], enc_lines(&edited)["user"]);
    assert_eq!(enc_lines(&unset)["port"], b["port"]);
    assert!(!enc_lines(&unset).contains_key("extra"));
    assert!(sops_decrypt(&s, "vault/kvstore/app/db.yaml", "keys.txt").is_ok());
}

/// Plain values covering the types sops would retype.
const PLAIN: &str = "# top\nuser: admin\npassword: hunter2\ntoken: abc\npin: 0080\nver: 1.10\nflag: on\nbare:\nempty: \"\"\npublic_host: db.example\nkey_enc: x\nnote_unencrypted: clear\ncert: |\n  line1\n  line2\n";

fn plain_values() -> BTreeMap<String, String> {
    map(&[
        ("user", "admin"),
        ("password", "hunter2"),
        ("token", "abc"),
        ("pin", "0080"),
        ("ver", "1.10"),
        ("flag", "on"),
        ("bare", ""),
        ("empty", ""),
        ("public_host", "db.example"),
        ("key_enc", "x"),
        ("note_unencrypted", "clear"),
        ("cert", "line1\nline2\n"),
    ])
}

#[test]
fn every_creation_rule_option_round_trips_through_sops() {
    if !tools::sops("every_creation_rule_option_round_trips_through_sops") {
        return;
    }
    let other = other_recipient();
    let cases = [
        ("default", format!("age: {MAIN}\n")),
        ("comma list", format!("age: \"{MAIN}, {other}\"\n")),
        (
            "yaml list",
            format!("age:\n      - {MAIN}\n      - {other}\n"),
        ),
        (
            "key group",
            format!("key_groups:\n      - age:\n          - {MAIN}\n"),
        ),
        (
            "encrypted_regex",
            format!("age: {MAIN}\n    encrypted_regex: ^(password|token)$\n"),
        ),
        (
            "unencrypted_regex",
            format!("age: {MAIN}\n    unencrypted_regex: ^public_\n"),
        ),
        (
            "encrypted_suffix",
            format!("age: {MAIN}\n    encrypted_suffix: _enc\n"),
        ),
        (
            "unencrypted_suffix",
            format!("age: {MAIN}\n    unencrypted_suffix: _host\n"),
        ),
        (
            "mac_only_encrypted",
            format!("age: {MAIN}\n    encrypted_regex: ^password$\n    mac_only_encrypted: true\n"),
        ),
    ];
    for (name, rule) in cases {
        let s = vault(&format!(
            "creation_rules:\n  - path_regex: ^vault/kvstore/.*\\.yaml$\n    {rule}"
        ));
        s.file("vault/kvstore/app.yaml", PLAIN);
        // The same plaintext encrypted by sops with the same rule, for comparison.
        s.file("ref/vault/kvstore/app.yaml", PLAIN);
        s.file("ref/.sops.yaml", read(&s, ".sops.yaml"));
        ok(&kv(&s, &["encrypt"]));
        let ours = read(&s, "vault/kvstore/app.yaml");
        let values = sops_decrypt(&s, "vault/kvstore/app.yaml", "keys.txt")
            .unwrap_or_else(|e| panic!("{name}: sops refuses our file: {e}\n{ours}"));
        let out = Command::new("sops")
            .args([
                "--disable-version-check",
                "encrypt",
                "-i",
                "vault/kvstore/app.yaml",
            ])
            .current_dir(s.path().join("ref"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs = read(&s, "ref/vault/kvstore/app.yaml");
        let keys = |t: &str| enc_lines(t).into_keys().collect::<Vec<_>>();
        assert_eq!(
            keys(&ours),
            keys(&theirs),
            "{name}: the same values are encrypted"
        );
        // Encrypted values come back as the strings written; values left in clear read as sops
        // reads any clear YAML (it retypes `0080`, as it does in its own file).
        let sops_view = sops_decrypt(&s, "ref/vault/kvstore/app.yaml", "keys.txt").unwrap();
        let encrypted = enc_lines(&ours);
        let expected: BTreeMap<String, String> = plain_values()
            .into_iter()
            .map(|(k, v)| {
                let v = if encrypted.contains_key(&k) {
                    v
                } else {
                    sops_view[&k].clone()
                };
                (k, v)
            })
            .collect();
        assert_eq!(values, expected, "{name}");
        // The selector fields of the metadata agree.
        let meta = |t: &str| {
            t[t.find("\nsops:\n").unwrap()..]
                .lines()
                .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
                .filter(|l| !l.contains("lastmodified") && !l.contains("mac:"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(meta(&ours), meta(&theirs), "{name}: sops metadata fields");
        // kubevault renders the values as written: before and after encryption alike.
        let out = kv(&s, &["generate", "--vault-dir", "vault"]);
        ok(&out);
        let data = rendered_data(&out.stdout, "app");
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        for (k, v) in plain_values() {
            assert_eq!(data[&k].as_str(), Some(b64(&v).as_str()), "{name}: {k}");
        }
    }
}

#[test]
fn rekey_agrees_with_sops_updatekeys_and_rotate_retires_the_old_data_key() {
    if !tools::sops("rekey_agrees_with_sops_updatekeys_and_rotate_retires_the_old_data_key") {
        return;
    }
    let other = other_recipient();
    let s = vault(&rules_for(MAIN, ""));
    for i in 0..3 {
        ok(&kv(&s, &["set", &format!("team/s{i}"), "a=1", "b=two"]));
    }
    s.file("vault/kvstore/plain.yaml", "x: 1\n");
    // The rule now names a second recipient.
    s.file(".sops.yaml", rules_for(&format!("{MAIN},{other}"), ""));
    std::fs::copy(
        s.path().join("vault/kvstore/team/s0.yaml"),
        s.path().join("copy.yaml"),
    )
    .unwrap();
    s.file(
        "copy-rules/.sops.yaml",
        format!("creation_rules:\n  - age: {MAIN},{other}\n"),
    );
    std::fs::rename(
        s.path().join("copy.yaml"),
        s.path().join("copy-rules/s0.yaml"),
    )
    .unwrap();
    let out = Command::new("sops")
        .args(["--disable-version-check", "updatekeys", "-y", "s0.yaml"])
        .env("SOPS_AGE_KEY_FILE", s.path().join("keys.txt"))
        .current_dir(s.path().join("copy-rules"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = read(&s, "vault/kvstore/team/s0.yaml");
    let drift = kv(&s, &["check", "--vault-dir", "vault"]);
    assert!(
        drift.stdout.contains("recipients differ"),
        "{}",
        drift.stdout
    );
    let out = kv(&s, &["rekey"]);
    ok(&out);
    assert!(out.stderr.contains("rekeyed 3 files"), "{}", out.stderr);
    let ours = read(&s, "vault/kvstore/team/s0.yaml");
    let theirs = read(&s, "copy-rules/s0.yaml");
    let recipients = |t: &str| {
        let mut r: Vec<String> = t
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- recipient: "))
            .map(str::to_string)
            .collect();
        r.sort();
        r
    };
    assert_eq!(recipients(&ours), recipients(&theirs));
    // Values, MAC and lastmodified stay; the old stanza is kept byte for byte.
    assert_kept(&before, &ours, &[]);
    assert_eq!(enc_lines(&before), enc_lines(&ours));
    // The other key alone opens it now, with sops.
    let values = sops_decrypt(&s, "vault/kvstore/team/s0.yaml", "other_keys.txt").unwrap();
    assert_eq!(values, map(&[("a", "1"), ("b", "two")]));
    let clean = kv(&s, &["check", "--vault-dir", "vault"]);
    assert!(
        !clean.stdout.contains("recipients differ"),
        "{}",
        clean.stdout
    );
    // A second rekey has nothing to do.
    assert!(kv(&s, &["rekey"]).stderr.contains("rekeyed 0 files"));

    // --rotate: a fresh data key; the old stanza no longer opens the file.
    let old = read(&s, "vault/kvstore/team/s1.yaml");
    ok(&kv(
        &s,
        &["rekey", "--rotate", "vault/kvstore/team/s1.yaml"],
    ));
    let new = read(&s, "vault/kvstore/team/s1.yaml");
    let old_enc = enc_lines(&old);
    let new_enc = enc_lines(&new);
    assert!(
        old_enc.keys().all(|k| old_enc[k] != new_enc[k]),
        "every value re-encrypted"
    );
    assert_eq!(
        sops_decrypt(&s, "vault/kvstore/team/s1.yaml", "keys.txt").unwrap(),
        map(&[("a", "1"), ("b", "two")])
    );
    let sops_block = |t: &str| t[t.find("\nsops:\n").unwrap()..].to_string();
    let age_block = |t: &str| {
        let b = sops_block(t);
        b[..b.find("    lastmodified:").unwrap()].to_string()
    };
    let spliced = new.replace(&age_block(&new), &age_block(&old));
    s.file("vault/kvstore/team/spliced.yaml", spliced);
    assert!(
        sops_decrypt(&s, "vault/kvstore/team/spliced.yaml", "keys.txt").is_err(),
        "the old data key must not open the rotated file"
    );
}

#[test]
fn who_can_decrypt_lists_recipients_without_a_key() {
    let other = other_recipient();
    let s = vault(&format!(
        "creation_rules:\n  - path_regex: kvstore/shared/\n    age: {MAIN},{other}\n  - path_regex: kvstore/app/\n    age: {MAIN}\n"
    ));
    ok(&kv(&s, &["set", "shared/tls", "crt=x"]));
    ok(&kv(&s, &["set", "app/db", "pw=y"]));
    ok(&kv(&s, &["set", "open/readme", "a=b", "--plaintext"]));
    // No key at all: recipients are public.
    let out = run(
        s.path(),
        &["who-can-decrypt", "--vault-dir", "vault"],
        None,
        &[],
    );
    ok(&out);
    assert!(
        out.stdout.contains(&format!("{MAIN} can decrypt 2 files")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("{other} can decrypt 1 file\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("kvstore/open/readme.yaml"),
        "{}",
        out.stdout
    );
    let out = run(
        s.path(),
        &["who-can-decrypt", &other, "--vault-dir", "vault"],
        None,
        &[],
    );
    assert!(
        out.stdout.contains("kvstore/shared/tls.yaml"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("app/db"), "{}", out.stdout);
    let out = run(
        s.path(),
        &["who-can-decrypt", "app/db", "--vault-dir", "vault"],
        None,
        &[],
    );
    assert_eq!(out.stdout, format!("kvstore/app/db.yaml\n  {MAIN}\n"));
    // A stale recipient: the file was encrypted before the rule changed.
    s.file(
        ".sops.yaml",
        format!("creation_rules:\n  - path_regex: kvstore/app/\n    age: {other}\n"),
    );
    let out = run(
        s.path(),
        &["who-can-decrypt", "app/db", "--vault-dir", "vault"],
        None,
        &[],
    );
    assert!(
        out.stdout.contains("differs from creation rule 1"),
        "{}",
        out.stdout
    );
    let out = run(s.path(), &["check", "--vault-dir", "vault"], None, &[]);
    assert!(
        out.stdout
            .contains("kvstore/app/db.yaml: warning: recipients differ from creation rule 1"),
        "{}",
        out.stdout
    );
}

#[test]
fn show_decrypts_to_a_pipe_only() {
    let s = vault(&rules_for(MAIN, ""));
    ok(&kv(
        &s,
        &["set", "app/db", &format!("pw={SENTINEL}"), "pin=0080"],
    ));
    let key = s.path().join("keys.txt");
    let out = run(
        s.path(),
        &["show", "app/db", "--vault-dir", "vault"],
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    ok(&out);
    assert_eq!(out.stdout, format!("pw: {SENTINEL}\npin: \"0080\"\n"));
    let out = run(
        s.path(),
        &["show", "app/db", "--key", "pin", "--vault-dir", "vault"],
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    assert_eq!(out.stdout, "0080");
    // Without the key: an error naming the recipients, no value.
    let out = run(
        s.path(),
        &["show", "app/db", "--vault-dir", "vault"],
        None,
        &[],
    );
    assert_eq!(out.code, 1);
    out.assert_no_sentinel();
    assert!(out.stderr.contains(MAIN), "{}", out.stderr);
}

#[test]
fn require_encryption_makes_plaintext_files_errors() {
    let s = vault(&rules_for(MAIN, ""));
    ok(&kv(&s, &["set", "app/db", "pw=x"]));
    s.file("vault/kvstore/open/readme.yaml", "a: b\n");
    let out = kv(&s, &["check", "--vault-dir", "vault"]);
    ok(&out);
    let out = kv(
        &s,
        &["check", "--vault-dir", "vault", "--require-encryption"],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("kvstore/open/readme.yaml: error: plaintext secret file"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("app/db"), "{}", out.stdout);
    // The same from vault/metadata.yaml.
    s.file(
        "vault/metadata.yaml",
        "apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\nrequireEncryption: true\n",
    );
    let out = kv(&s, &["check", "--vault-dir", "vault"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    // And from the functionConfig, in KRM mode.
    std::fs::remove_file(s.path().join("vault/metadata.yaml")).unwrap();
    let config = format!("{}  requireEncryption: true\n", common::FN_CONFIG);
    let key = s.path().join("keys.txt");
    let out = run(
        s.path(),
        &[],
        Some(common::resource_list("", &config).as_bytes()),
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("plaintext secret file"),
        "{}",
        out.stdout
    );
}

#[test]
fn rm_warns_about_rules_that_now_match_nothing() {
    let s = vault(&rules_for(MAIN, ""));
    s.file("vault/access_control/bob", "legacy/**\napp/**\n");
    ok(&kv(&s, &["set", "legacy/old", "a=b", "--plaintext"]));
    ok(&kv(&s, &["set", "app/db", "a=b", "--plaintext"]));
    let out = kv(&s, &["rm", "legacy/old"]);
    ok(&out);
    assert!(!s.path().join("vault/kvstore/legacy/old.yaml").exists());
    assert!(
        out.stderr
            .contains("access_control/bob:1: warning: rule `legacy/**` now matches no secret"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("app/**"), "{}", out.stderr);
}

#[test]
fn writes_never_follow_symlinks() {
    let s = vault(&rules_for(MAIN, ""));
    s.file("outside/target.yaml", "a: b\n");
    s.symlink(
        s.path().join("outside/target.yaml"),
        "vault/kvstore/link.yaml",
    );
    s.symlink(s.path().join("outside"), "vault/kvstore/dir");
    let out = kv(&s, &["set", "link", "a=c"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let out = kv(&s, &["set", "dir/x", "a=c"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(read(&s, "outside/target.yaml"), "a: b\n");
    assert!(!s.path().join("outside/x.yaml").exists());
}

/// Runs `kubevault edit` with a shell-script editor; the temp directory lives in `run/`.
fn edit_with(s: &Sandbox, script: &str) -> Output {
    s.file(
        "editor.sh",
        format!("#!/bin/sh\nS={}\n{script}", s.path().display()),
    );
    let editor = s.path().join("editor.sh");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(s.path().join("run")).unwrap();
    let key = s.path().join("keys.txt");
    let run_dir = s.path().join("run");
    let out = run(
        s.path(),
        &["edit", "app/db"],
        None,
        &[
            ("SOPS_AGE_KEY_FILE", key.to_str().unwrap()),
            ("EDITOR", editor.to_str().unwrap()),
            ("VISUAL", ""),
            ("XDG_RUNTIME_DIR", run_dir.to_str().unwrap()),
        ],
    );
    out.assert_no_sentinel();
    assert_eq!(
        std::fs::read_dir(&run_dir).unwrap().count(),
        0,
        "the temp directory must be gone"
    );
    out
}

fn edit_vault() -> Sandbox {
    let s = vault(&rules_for(MAIN, ""));
    ok(&kv(
        &s,
        &["set", "app/db", "user=admin", &format!("pw={SENTINEL}")],
    ));
    s
}

#[test]
fn edit_saves_changes_and_keeps_unchanged_ciphertext() {
    if !tools::sops("edit_saves_changes_and_keeps_unchanged_ciphertext") {
        return;
    }
    let s = edit_vault();
    let before = read(&s, "vault/kvstore/app/db.yaml");
    let out = edit_with(
        &s,
        "echo \"$1\" > $S/seen\nstat -c %a \"$1\" > $S/mode\nstat -c %a \"$(dirname \"$1\")\" > $S/dirmode\n\
         sed -i 's/^pw: .*/pw: changed/' \"$1\"\nprintf '# a note\\nport: \"0080\"\\n' >> \"$1\"\n",
    );
    ok(&out);
    assert_eq!(read(&s, "mode").trim(), "600");
    assert_eq!(read(&s, "dirmode").trim(), "700");
    assert!(!Path::new(read(&s, "seen").trim()).exists());
    let after = read(&s, "vault/kvstore/app/db.yaml");
    assert_eq!(enc_lines(&before)["user"], enc_lines(&after)["user"]);
    assert_ne!(enc_lines(&before)["pw"], enc_lines(&after)["pw"]);
    assert!(
        after.contains("\n#ENC["),
        "the new comment is encrypted as sops does: {after}"
    );
    assert_eq!(
        sops_decrypt(&s, "vault/kvstore/app/db.yaml", "keys.txt").unwrap(),
        map(&[("user", "admin"), ("pw", "changed"), ("port", "0080")])
    );
    // The comment comes back decrypted in the view.
    let key = s.path().join("keys.txt");
    let shown = run(
        s.path(),
        &["show", "app/db"],
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    assert_eq!(
        shown.stdout,
        "user: admin\npw: changed\n# a note\nport: \"0080\"\n"
    );
}

#[test]
fn edit_reopens_invalid_content_with_the_problem_on_top() {
    let s = edit_vault();
    let out = edit_with(
        &s,
        "n=$(cat $S/count 2>/dev/null || echo 0); echo $((n+1)) > $S/count\n\
         if [ \"$n\" = 0 ]; then echo 'user: twice' >> \"$1\"; else\n\
         head -n 3 \"$1\" > $S/header; grep -v '^user: twice' \"$1\" | grep -v '^# kubevault:' > $S/fixed; \
         sed -i 's/^user: .*/user: root/' $S/fixed; cat $S/fixed > \"$1\"; fi\n",
    );
    ok(&out);
    assert_eq!(read(&s, "count").trim(), "2");
    let header = read(&s, "header");
    assert!(header.starts_with("# kubevault:"), "{header}");
    assert!(header.contains("duplicate key"), "{header}");
    assert!(!header.contains(SENTINEL));
    let key = s.path().join("keys.txt");
    let shown = run(
        s.path(),
        &["show", "app/db"],
        None,
        &[("SOPS_AGE_KEY_FILE", key.to_str().unwrap())],
    );
    assert_eq!(shown.stdout, format!("user: root\npw: {SENTINEL}\n"));
    // Invalid content left as it is: nothing is written.
    let before = read(&s, "vault/kvstore/app/db.yaml");
    let out = edit_with(
        &s,
        "grep -q '^# kubevault:' \"$1\" || echo 'user: twice' >> \"$1\"\n",
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not fixed"), "{}", out.stderr);
    assert_eq!(read(&s, "vault/kvstore/app/db.yaml"), before);
}

#[test]
fn edit_without_change_and_with_a_killed_editor_writes_nothing() {
    let s = edit_vault();
    let before = read(&s, "vault/kvstore/app/db.yaml");
    let out = edit_with(&s, "true\n");
    ok(&out);
    assert!(out.stderr.contains("unchanged"), "{}", out.stderr);
    assert_eq!(read(&s, "vault/kvstore/app/db.yaml"), before);
    let out = edit_with(&s, "echo 'pw: x' > \"$1\"\nkill -KILL $$\n");
    assert_eq!(out.code, 1);
    assert_eq!(read(&s, "vault/kvstore/app/db.yaml"), before);
}

#[test]
fn edit_cleans_up_when_kubevault_is_terminated() {
    let s = edit_vault();
    let before = read(&s, "vault/kvstore/app/db.yaml");
    s.file(
        "editor.sh",
        format!(
            "#!/bin/sh\necho $$ > {0}/editor.pid\necho \"$1\" > {0}/seen\nexec sleep 30\n",
            s.path().display()
        ),
    );
    let editor = s.path().join("editor.sh");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run_dir = s.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    for signal in ["TERM", "HUP", "INT"] {
        let _ = std::fs::remove_file(s.path().join("seen"));
        let started = std::time::Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubevault"))
            .args(["edit", "app/db"])
            .current_dir(s.path())
            .env("SOPS_AGE_KEY_FILE", s.path().join("keys.txt"))
            .env("EDITOR", &editor)
            .env_remove("VISUAL")
            .env("XDG_RUNTIME_DIR", &run_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        while !std::fs::read_to_string(s.path().join("seen")).is_ok_and(|t| t.ends_with('\n')) {
            assert!(started.elapsed().as_secs() < 20, "the editor never started");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let temp = read(&s, "seen");
        assert!(Path::new(temp.trim()).exists());
        Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        if signal == "INT" {
            // SIGINT belongs to the editor while it runs (as with git); stop the editor then.
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert!(
                child.try_wait().unwrap().is_none(),
                "SIGINT alone must not abort the edit"
            );
            let editor_pid = read(&s, "editor.pid");
            Command::new("kill")
                .args(["-KILL", editor_pid.trim()])
                .status()
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            started.elapsed().as_secs() < 20,
            "{signal}: kubevault did not stop the editor"
        );
        assert!(!out.status.success(), "{signal}");
        assert!(
            !Path::new(temp.trim()).exists(),
            "{signal}: temp file left behind"
        );
        assert_eq!(std::fs::read_dir(&run_dir).unwrap().count(), 0, "{signal}");
        assert_eq!(read(&s, "vault/kvstore/app/db.yaml"), before);
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains(SENTINEL));
    }
}
