//! Integration tests of `kubevault::sops`: reference vectors made by the real sops, kvstore-style
//! fixtures made by sops 3.11 (`tests/fixtures/sops/make.sh`), tampering, and key lookup.

use std::path::{Path, PathBuf};

use kubevault::sops::{Identities, SopsError, decrypt, is_encrypted, load_identities};
use kubevault::yaml::{Limits, Node, Style, Value, parse_stream};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops-reference");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const VECTOR_CASES: [&str; 7] = [
    "empty_value",
    "encrypted_regex",
    "encrypted_suffix",
    "example",
    "mac_only_encrypted",
    "unencrypted_regex",
    "unencrypted_suffix",
];

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> Node {
    let mut docs = parse_stream(text, &Limits::default()).expect("valid YAML");
    assert_eq!(docs.len(), 1, "one document");
    docs.remove(0)
}

fn vector(case: &str) -> String {
    read(format!("{VECTORS}/age_{case}.yaml"))
}

fn vector_keys() -> Identities {
    Identities::parse(&read(format!("{VECTORS}/keys.txt")), "keys.txt").unwrap()
}

fn fixture_keys() -> Identities {
    Identities::parse(&read(format!("{FIXTURES}/keys.txt")), "keys.txt").unwrap()
}

/// The tree without lines: what a value comparison should look at.
fn shape(node: &Node) -> Node {
    let value = match &node.value {
        Value::Scalar { text, style } => Value::Scalar {
            text: text.clone(),
            style: *style,
        },
        Value::Seq(items) => Value::Seq(items.iter().map(shape).collect()),
        Value::Map(entries) => {
            Value::Map(entries.iter().map(|(k, v)| (shape(k), shape(v))).collect())
        }
    };
    Node {
        value,
        tag: node.tag.clone(),
        line: 0,
    }
}

/// Scalars compared by text and by whether YAML reads them as strings; sops' emitter quotes
/// differently from the source, so `''` vs `""` vs plain strings must not matter.
fn normalized(node: &Node) -> Node {
    let mut node = shape(node);
    fn fix(node: &mut Node) {
        match &mut node.value {
            Value::Scalar { text, style } => {
                let typed_plain = *style == Style::Plain
                    && node.tag.is_none()
                    && (text.is_empty()
                        || ["~", "null", "true", "false"].contains(&text.as_str())
                        || text.parse::<f64>().is_ok());
                *style = if typed_plain {
                    Style::Plain
                } else {
                    Style::Str
                };
            }
            Value::Seq(items) => items.iter_mut().for_each(fix),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                fix(k);
                fix(v)
            }),
        }
    }
    fix(&mut node);
    node
}

fn decrypt_text(text: &str, keys: &Identities) -> Result<Node, SopsError> {
    decrypt(&parse(text), keys)
}

fn fixture(name: &str) -> String {
    read(format!("{FIXTURES}/{name}.enc.yaml"))
}

const FIXTURE_CASES: [&str; 5] = [
    "flat",
    "encrypted_regex",
    "mac_only_encrypted",
    "unencrypted_regex",
    "two_recipients",
];

/// The error must be rejected and its text (Display and Debug) must not leak secrets.
fn rejected(text: &str, keys: &Identities) -> SopsError {
    let error = match decrypt_text(text, keys) {
        Ok(_) => panic!("tampered input was accepted"),
        Err(error) => error,
    };
    let shown = format!("{error} {error:?}");
    for secret in [
        "SENTINEL",
        "AGE-SECRET-KEY",
        "Welcome",
        "example_value",
        "data:",
        "iv:",
        "tag:",
    ] {
        assert!(!shown.contains(secret), "error leaks {secret}: {shown}");
    }
    error
}

/// Replaces the first character of the `field:` part of the line starting with `key: ` (or of the
/// `mac:` line) by another base64 character, so the decoded bytes really change.
fn flip(text: &str, line_start: &str, field: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(line_start))
        .expect("line");
    let at = line.find(&format!("{field}:")).expect("field") + field.len() + 1;
    let old = line.as_bytes()[at];
    let new = if old == b'A' { 'B' } else { 'A' };
    let mut changed = line.to_string();
    changed.replace_range(at..at + 1, &new.to_string());
    text.replacen(line, &changed, 1)
}

#[test]
fn every_reference_vector_decrypts_to_its_plaintext() {
    let keys = vector_keys();
    for case in VECTOR_CASES {
        let doc = parse(&vector(case));
        assert!(is_encrypted(&doc), "{case}");
        let plain = decrypt(&doc, &keys).unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = parse(&read(format!("{VECTORS}/age_{case}_plaintext.yaml")));
        assert!(!is_encrypted(&plain), "{case}: sops key removed");
        assert_eq!(normalized(&plain), normalized(&expected), "{case}");
    }
}

#[test]
fn sops_cli_fixtures_decrypt_to_what_sops_decrypt_printed() {
    let keys = fixture_keys();
    for case in FIXTURE_CASES {
        let plain = decrypt_text(&fixture(case), &keys).unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = parse(&read(format!("{FIXTURES}/{case}.expected.yaml")));
        assert_eq!(normalized(&plain), normalized(&expected), "{case}");
    }
}

fn scalar(doc: &Node, key: &str) -> (String, Style, Option<String>) {
    let node = doc.get(key).unwrap_or_else(|| panic!("no key {key}"));
    match &node.value {
        Value::Scalar { text, style } => (text.clone(), *style, node.tag.clone()),
        _ => panic!("{key} is not a scalar"),
    }
}

#[test]
fn kvstore_values_come_back_as_sops_stored_them() {
    let doc = decrypt_text(&fixture("flat"), &fixture_keys()).unwrap();
    let text = |key| scalar(&doc, key).0;
    let style = |key| scalar(&doc, key).1;
    assert_eq!(text("password"), "SENTINEL-flat-password-7f3a");
    assert_eq!(style("password"), Style::Str);
    assert_eq!(
        (text("port"), style("port")),
        ("5432".to_string(), Style::Plain)
    );
    assert_eq!(
        (text("enabled"), style("enabled")),
        ("true".to_string(), Style::Plain)
    );
    // sops re-types plain scalars before encrypting: 1.10 is the float 1.1 and 0123 the octal 83.
    assert_eq!(text("ratio"), "1.1");
    assert_eq!(text("pin"), "83");
    assert_eq!(
        (text("quoted_pin"), style("quoted_pin")),
        ("0123".to_string(), Style::Str)
    );
    assert_eq!((text("empty"), style("empty")), (String::new(), Style::Str));
    assert!(doc.get("bare").unwrap().is_null());
    assert_eq!(
        text("tls.crt"),
        "-----BEGIN CERTIFICATE-----\nSENTINEL-flat-certificate-body\n-----END CERTIFICATE-----\n"
    );
    assert_eq!(text("greeting"), "héllo wörld ✓");
    // go-yaml decodes !!binary before sops encrypts it as a string.
    assert_eq!(text("blob"), "SENTINEL-binary");
    assert_eq!(
        (text("since"), style("since")),
        ("2024-01-02T00:00:00Z".to_string(), Style::Plain)
    );
    assert_eq!(text("note_unencrypted"), "visible in git");
    assert!(doc.get("sops").is_none());
    assert!(doc.get("password").unwrap().line > 1, "lines are kept");
}

#[test]
fn values_typed_by_sops_decrypt_and_pass_the_mac() {
    let doc = decrypt_text(&fixture("edge_types"), &fixture_keys()).unwrap();
    assert_eq!(scalar(&doc, "float").0, "1000000000000000000000");
    assert_eq!(scalar(&doc, "inf").0, ".inf");
    assert_eq!(scalar(&doc, "negative_zero").0, "-0");
    assert_eq!(scalar(&doc, "fraction").0, "2024-01-02T03:04:05.12+02:00");
    assert_eq!(scalar(&doc, "min").0, "-9223372036854775808");
    let nested = doc.get("nested").unwrap().as_seq().unwrap();
    let inner = nested[0].get("b").unwrap().as_seq().unwrap();
    assert_eq!(inner[0].as_str(), Some("SENTINEL-edge-nested"));
    assert_eq!(inner[1].as_str(), Some("2"));
    assert_eq!(nested[1].as_str(), Some("c"));
    // Sequence items add no path component: moving an item's value to another item passes
    // AES-GCM but changes the MAC.
    let text = fixture("edge_types");
    let mut lines: Vec<&str> = text.lines().collect();
    let items: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with("        - ENC["))
        .collect();
    assert_eq!(items.len(), 2);
    lines.swap(items[0], items[1]);
    let swapped = lines.join("\n") + "\n";
    assert_eq!(rejected(&swapped, &fixture_keys()), SopsError::MacMismatch);
}

#[test]
fn encrypted_regex_leaves_other_values_as_parsed() {
    let doc = decrypt_text(&fixture("encrypted_regex"), &fixture_keys()).unwrap();
    assert_eq!(scalar(&doc, "password").0, "SENTINEL-regex-password-91c2");
    assert_eq!(scalar(&doc, "token").0, "SENTINEL-regex-token-55aa");
    assert_eq!(
        scalar(&doc, "host"),
        ("db.example.com".to_string(), Style::Plain, None)
    );
    assert_eq!(scalar(&doc, "port").0, "5432");
}

#[test]
fn a_key_for_any_recipient_opens_a_file_with_several() {
    let other = Identities::parse(&read(format!("{FIXTURES}/other_keys.txt")), "other").unwrap();
    for keys in [other, fixture_keys()] {
        let doc = decrypt_text(&fixture("two_recipients"), &keys).unwrap();
        assert_eq!(scalar(&doc, "password").0, "SENTINEL-two-password-c0de");
    }
}

#[test]
fn flipped_data_iv_or_tag_is_an_integrity_error_naming_key_and_line() {
    for (text, line_start) in [
        (fixture("flat"), "password: "),
        (vector("example"), "hello: "),
    ] {
        for field in ["data", "iv", "tag"] {
            let keys = if line_start == "hello: " {
                vector_keys()
            } else {
                fixture_keys()
            };
            let error = rejected(&flip(&text, line_start, field), &keys);
            assert!(
                matches!(error, SopsError::Integrity { .. }),
                "{field}: {error}"
            );
            let key = line_start.trim_end_matches(": ");
            assert_eq!(error.key(), Some(key), "{field}");
            let line = text
                .lines()
                .position(|l| l.starts_with(line_start))
                .unwrap()
                + 1;
            assert_eq!(error.line(), Some(line), "{field}");
        }
    }
}

#[test]
fn a_flipped_mac_is_a_mac_mismatch() {
    for (text, keys) in [
        (fixture("flat"), fixture_keys()),
        (vector("example"), vector_keys()),
    ] {
        for field in ["data", "tag"] {
            let error = rejected(&flip(&text, "mac: ", field), &keys);
            assert_eq!(error, SopsError::MacMismatch, "{field}");
        }
    }
}

fn swap_lines(text: &str, a: &str, b: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let i = lines.iter().position(|l| l.starts_with(a)).expect("a");
    let j = lines.iter().position(|l| l.starts_with(b)).expect("b");
    lines.swap(i, j);
    lines.join("\n") + "\n"
}

#[test]
fn reordered_keys_are_a_mac_mismatch() {
    let error = rejected(
        &swap_lines(&fixture("flat"), "username: ", "password: "),
        &fixture_keys(),
    );
    assert_eq!(error, SopsError::MacMismatch);
    let error = rejected(
        &swap_lines(&vector("example"), "hello: ", "example_key: "),
        &vector_keys(),
    );
    assert_eq!(error, SopsError::MacMismatch);
}

#[test]
fn a_value_moved_to_another_key_fails_authentication() {
    let text = fixture("flat");
    let value = |key: &str| {
        let line = text.lines().find(|l| l.starts_with(key)).unwrap();
        line[key.len()..].to_string()
    };
    let (user, pass) = (value("username: "), value("password: "));
    let moved = text
        .replacen(
            &format!("username: {user}"),
            &format!("username: {pass}"),
            1,
        )
        .replacen(
            &format!("password: {pass}"),
            &format!("password: {user}"),
            1,
        );
    let error = rejected(&moved, &fixture_keys());
    assert!(matches!(error, SopsError::Integrity { .. }), "{error}");
}

#[test]
fn removed_or_added_values_are_rejected() {
    let keys = fixture_keys();
    let text = fixture("flat");
    let line = text.lines().find(|l| l.starts_with("username: ")).unwrap();
    let removed = text.replacen(&format!("{line}\n"), "", 1);
    assert_eq!(rejected(&removed, &keys), SopsError::MacMismatch);

    let added = text.replacen("port: ", "extra_unencrypted: sneaky\nport: ", 1);
    assert_eq!(rejected(&added, &keys), SopsError::MacMismatch);

    let plain_in_encrypted_path = text.replacen("port: ", "extra: SENTINEL-added\nport: ", 1);
    let error = rejected(&plain_in_encrypted_path, &keys);
    assert!(matches!(error, SopsError::Malformed { .. }), "{error}");
    assert_eq!(error.key(), Some("extra"));

    let vector_removed = vector("example").replacen("example_number: ", "example_gone: ", 1);
    assert!(decrypt_text(&vector_removed, &vector_keys()).is_err());
}

#[test]
fn changed_unencrypted_values_and_lastmodified_break_the_mac() {
    let keys = fixture_keys();
    let text =
        fixture("encrypted_regex").replacen("host: db.example.com", "host: evil.example.com", 1);
    assert_eq!(rejected(&text, &keys), SopsError::MacMismatch);
    let text = fixture("flat").replacen("visible in git", "changed", 1);
    assert_eq!(rejected(&text, &keys), SopsError::MacMismatch);
    let flat = fixture("flat");
    let line = flat.lines().find(|l| l.contains("lastmodified:")).unwrap();
    let text = flat.replacen(line, "    lastmodified: \"2001-01-01T00:00:00Z\"", 1);
    assert_eq!(rejected(&text, &keys), SopsError::MacMismatch);
}

#[test]
fn mac_only_encrypted_does_not_cover_unencrypted_values() {
    let keys = fixture_keys();
    // sops semantics: with mac_only_encrypted, clear-text values are not authenticated.
    let text = fixture("mac_only_encrypted").replacen("host: db.example.com", "host: other", 1);
    let doc = decrypt_text(&text, &keys).unwrap();
    assert_eq!(scalar(&doc, "host").0, "other");
    // ... but encrypted ones still are, and so is their order.
    let swapped = swap_lines(&fixture("mac_only_encrypted"), "password: ", "token: ");
    assert_eq!(rejected(&swapped, &keys), SopsError::MacMismatch);
}

#[test]
fn a_wrong_key_lists_the_file_recipients() {
    let error = rejected(&fixture("flat"), &vector_keys());
    let SopsError::NoMatchingIdentity { recipients, tried } = &error else {
        panic!("{error}");
    };
    let ours = Identities::parse(&read(format!("{FIXTURES}/keys.txt")), "k").unwrap();
    assert_eq!(recipients, ours.recipients());
    assert_eq!(tried, vector_keys().recipients());
    assert!(error.to_string().contains(&ours.recipients()[0]), "{error}");
}

#[test]
fn no_keys_at_all_says_where_it_looked() {
    let env = |name: &str| (name == "HOME").then(|| "/nonexistent-home".to_string());
    let keys = load_identities(None, &env).unwrap();
    assert!(keys.is_empty());
    let error = rejected(&fixture("flat"), &keys);
    assert!(matches!(error, SopsError::NoIdentities { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("/nonexistent-home/.config/sops/age/keys.txt"),
        "{error}"
    );
}

#[test]
fn files_without_age_recipients_are_unsupported() {
    let text = "password: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\nsops:\n  kms:\n  - arn: arn:aws:kms:x\n    enc: AAAA\n  pgp:\n  - fp: ABCDEF\n    enc: AAAA\n  lastmodified: \"2024-01-01T00:00:00Z\"\n  mac: ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\n";
    let error = rejected(text, &fixture_keys());
    assert_eq!(
        error.to_string(),
        "unsupported: this file has no age recipients (it has: pgp, kms)"
    );
}

#[test]
fn several_key_groups_are_unsupported() {
    let flat = fixture("flat");
    let (data, meta) = flat.split_once("sops:\n").unwrap();
    let age_block: String = meta
        .lines()
        .take_while(|l| !l.contains("lastmodified"))
        .skip(1)
        .map(|l| format!("      {l}\n"))
        .collect();
    let rest: String = meta
        .lines()
        .skip_while(|l| !l.contains("lastmodified"))
        .map(|l| format!("{l}\n"))
        .collect();
    let text = format!(
        "{data}sops:\n    key_groups:\n    - age:\n{age_block}    - age:\n{age_block}{rest}"
    );
    let error = rejected(&text, &fixture_keys());
    assert!(matches!(error, SopsError::Unsupported { .. }), "{error}");
    // One key group is fine.
    let one = format!("{data}sops:\n    key_groups:\n    - age:\n{age_block}{rest}");
    assert!(decrypt_text(&one, &fixture_keys()).is_ok());
}

#[test]
fn is_encrypted_needs_a_top_level_sops_mapping() {
    assert!(is_encrypted(&parse(&fixture("flat"))));
    assert!(!is_encrypted(&parse(&read(format!(
        "{FIXTURES}/plain/flat.yaml"
    )))));
    assert!(!is_encrypted(&parse("sops: just a value\n")));
    assert!(!is_encrypted(&parse("a:\n  sops:\n    x: 1\n")));
    assert_eq!(
        decrypt_text("a: b\n", &fixture_keys()).unwrap_err(),
        SopsError::NotEncrypted
    );
}

#[test]
fn debug_output_never_shows_plaintext_or_keys() {
    let keys = fixture_keys();
    let doc = decrypt_text(&fixture("flat"), &keys).unwrap();
    let shown = format!("{doc:?} {keys:?}");
    assert!(!shown.contains("SENTINEL"), "{shown}");
    assert!(!shown.contains("AGE-SECRET-KEY"), "{shown}");
}

// ---- key lookup ----

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Writes `source` (a keys file) to `relative` under the temp dir.
    fn put(&self, relative: &str, source: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(source, &path).unwrap();
        path
    }

    fn root(&self) -> String {
        self.dir.path().display().to_string()
    }
}

fn recipient_of(file: &str) -> String {
    Identities::parse(&read(file), "x").unwrap().recipients()[0].clone()
}

fn env_of(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn key_lookup_merges_all_sources_in_order() {
    let tmp = Keys::new();
    let fixture_file = format!("{FIXTURES}/keys.txt");
    let other_file = format!("{FIXTURES}/other_keys.txt");
    let vector_file = format!("{VECTORS}/keys.txt");
    let explicit = tmp.put("explicit/keys.txt", &other_file);
    let by_env = tmp.put("env/keys.txt", &vector_file);
    tmp.put("xdg/sops/age/keys.txt", &fixture_file);
    let fourth = age::x25519::Identity::generate();
    let fourth_secret = {
        use age::secrecy::ExposeSecret;
        fourth.to_string().expose_secret().to_string()
    };
    let env = env_of(vec![
        ("SOPS_AGE_KEY", format!("# inline\n{fourth_secret}\n")),
        ("SOPS_AGE_KEY_FILE", by_env.display().to_string()),
        ("XDG_CONFIG_HOME", format!("{}/xdg", tmp.root())),
        ("HOME", format!("{}/home", tmp.root())),
    ]);
    let keys = load_identities(Some(&explicit), &env).unwrap();
    assert_eq!(
        keys.recipients(),
        [
            recipient_of(&other_file),
            fourth.to_public().to_string(),
            recipient_of(&vector_file),
            recipient_of(&fixture_file)
        ]
    );
    assert_eq!(keys.len(), 4);
    let shown = format!("{keys:?}");
    assert!(
        !shown.contains(&fourth_secret) && !shown.contains("AGE-SECRET-KEY"),
        "{shown}"
    );
    // All of them are usable.
    assert!(decrypt_text(&fixture("flat"), &keys).is_ok());
    assert!(decrypt_text(&vector("example"), &keys).is_ok());
}

#[test]
fn inline_key_alone_decrypts() {
    let inline = read(format!("{FIXTURES}/keys.txt"));
    let env = env_of(vec![
        ("SOPS_AGE_KEY", inline),
        ("HOME", "/nonexistent".into()),
    ]);
    let keys = load_identities(None, &env).unwrap();
    assert_eq!(keys.len(), 1);
    assert!(decrypt_text(&fixture("flat"), &keys).is_ok());
}

#[test]
fn default_file_is_under_xdg_config_home_else_home() {
    let tmp = Keys::new();
    tmp.put(
        "home/.config/sops/age/keys.txt",
        &format!("{FIXTURES}/keys.txt"),
    );
    tmp.put("xdg/sops/age/keys.txt", &format!("{VECTORS}/keys.txt"));
    let home_only = env_of(vec![("HOME", format!("{}/home", tmp.root()))]);
    let keys = load_identities(None, &home_only).unwrap();
    assert_eq!(
        keys.recipients(),
        [recipient_of(&format!("{FIXTURES}/keys.txt"))]
    );
    let with_xdg = env_of(vec![
        ("HOME", format!("{}/home", tmp.root())),
        ("XDG_CONFIG_HOME", format!("{}/xdg", tmp.root())),
    ]);
    let keys = load_identities(None, &with_xdg).unwrap();
    assert_eq!(
        keys.recipients(),
        [recipient_of(&format!("{VECTORS}/keys.txt"))]
    );
}

#[test]
fn missing_default_file_is_fine_missing_named_files_are_errors() {
    let tmp = Keys::new();
    let env = env_of(vec![("HOME", tmp.root())]);
    let keys = load_identities(None, &env).unwrap();
    assert!(keys.is_empty());
    assert!(keys.searched().iter().any(|s| s.contains("not found")));

    let missing = tmp.dir.path().join("nope.txt");
    let error = load_identities(Some(&missing), &env).unwrap_err();
    assert!(matches!(error, SopsError::KeyFile { .. }), "{error}");
    assert!(error.to_string().contains("nope.txt"), "{error}");

    let env = env_of(vec![
        ("HOME", tmp.root()),
        ("SOPS_AGE_KEY_FILE", missing.display().to_string()),
    ]);
    let error = load_identities(None, &env).unwrap_err();
    assert!(error.to_string().contains("SOPS_AGE_KEY_FILE"), "{error}");
}

#[test]
fn bad_key_files_are_errors_without_their_content() {
    let tmp = Keys::new();
    let path = tmp.dir.path().join("bad.txt");
    std::fs::write(&path, "# ok\nAGE-SECRET-KEY-1SENTINELNOTBECH32\n").unwrap();
    let error = load_identities(Some(&path), &|_: &str| None).unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        shown.contains("bad.txt") && shown.contains("line 2"),
        "{shown}"
    );
    assert!(!shown.contains("SENTINEL"), "{shown}");
    let env = env_of(vec![("SOPS_AGE_KEY", "SENTINEL-not-a-key".into())]);
    let error = load_identities(None, &env).unwrap_err();
    assert!(!format!("{error} {error:?}").contains("SENTINEL"));
}
