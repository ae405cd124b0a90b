//! The unchanged-ciphertext property of the SOPS writer: for random edits (set, unset, set to
//! the same value) of random files — written by kubevault or by the real sops (the fixtures) —
//! every value that did not change keeps its `ENC[...]` text byte for byte, comments and blank
//! lines stay, and the result decrypts (MAC verified) to exactly the edited values.

use std::collections::BTreeMap;

use kubevault::sops::creation::Selector;
use kubevault::sops::{Encryption, Identities, Opened, decrypt};
use kubevault::yaml::{Limits, Node, parse_stream};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const MAIN: &str = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";
const SOPS_WRITTEN: [&str; 4] = [
    "flat.enc.yaml",
    "two_recipients.enc.yaml",
    "mac_only_encrypted.enc.yaml",
    "encrypted_regex.enc.yaml",
];

fn identities() -> Identities {
    Identities::from_file(std::path::Path::new(&format!("{FIXTURES}/keys.txt"))).unwrap()
}

fn tree(text: &str) -> Node {
    parse_stream(text, &Limits::default())
        .unwrap()
        .into_iter()
        .next()
        .unwrap()
}

/// Top-level `key: value` lines by key (values that are ENC[...] or anything else).
fn top_lines(text: &str) -> BTreeMap<String, String> {
    let body = &text[..text.find("\nsops:\n").map_or(text.len(), |i| i + 1)];
    body.lines()
        .filter(|l| !l.starts_with([' ', '#']) && l.contains(':'))
        .map(|l| {
            let key = l.split(':').next().unwrap().trim_matches(['"', '\'']);
            (key.to_string(), l.to_string())
        })
        .collect()
}

/// The decrypted values as strings (what kubevault renders).
fn values(text: &str) -> BTreeMap<String, String> {
    let plain = decrypt(&tree(text), &identities()).expect("decrypts with a valid MAC");
    plain
        .as_map()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                if v.is_null() {
                    String::new()
                } else {
                    v.as_str().unwrap().to_string()
                },
            )
        })
        .collect()
}

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with('#') || l.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Clone, Debug)]
enum Op {
    Set(usize, String),
    SetNew(String, String),
    Unset(usize),
    Same(usize),
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ]{0,12}",
        Just("0080".to_string()),
        Just("1.10".to_string()),
        Just("on".to_string()),
        "[a-z]{1,5}\n[a-z]{1,5}\n?",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..16, value()).prop_map(|(i, v)| Op::Set(i, v)),
        ("n[a-z]{1,6}", value()).prop_map(|(k, v)| Op::SetNew(k, v)),
        (0usize..16).prop_map(Op::Unset),
        (0usize..16).prop_map(Op::Same),
    ]
}

/// A random plaintext secret file with comments and blank lines between entries.
fn plain_file() -> impl Strategy<Value = String> {
    prop::collection::vec(("[a-z]{1,8}", value(), 0u8..4), 1..8).prop_map(|entries| {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = String::new();
        for (key, value, extra) in entries {
            if !seen.insert(key.clone()) {
                continue;
            }
            match extra {
                1 => out.push_str("# about it\n"),
                2 => out.push('\n'),
                _ => {}
            }
            let node = Node::map([(key, Node::string(value))]);
            out.push_str(&kubevault::yaml::emit_document(&node));
        }
        out
    })
}

fn check(original: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let ids = identities();
    let mut opened = Opened::open(original, Some(&ids)).unwrap();
    let keys = opened.keys();
    let mut model = values(original);
    let mut touched = std::collections::BTreeSet::new();
    for op in ops {
        match op {
            Op::Set(..) if keys.is_empty() => {}
            Op::Set(i, v) => {
                let key = &keys[i % keys.len()];
                if model.get(key) != Some(v) {
                    touched.insert(key.clone());
                }
                opened.set(key, v.as_bytes());
                model.insert(key.clone(), v.clone());
            }
            Op::SetNew(k, v) => {
                if model.get(k) != Some(v) {
                    touched.insert(k.clone());
                }
                opened.set(k, v.as_bytes());
                model.insert(k.clone(), v.clone());
            }
            Op::Unset(i) if !keys.is_empty() => {
                let key = &keys[i % keys.len()];
                opened.unset(key);
                model.remove(key);
                touched.insert(key.clone());
            }
            Op::Same(i) if !keys.is_empty() => {
                let key = keys[i % keys.len()].clone();
                if let Some(v) = opened.value(&key) {
                    opened.set(&key, &v);
                }
            }
            _ => {}
        }
    }
    let written = opened.write().unwrap();
    prop_assert_eq!(values(&written), model);
    let (before, after) = (top_lines(original), top_lines(&written));
    for (key, line) in &before {
        if !touched.contains(key) {
            prop_assert_eq!(Some(line), after.get(key), "value {} changed", key);
        }
    }
    prop_assert_eq!(comments(original), comments(&written));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn unchanged_values_keep_their_ciphertext_in_kubevault_files(
        plain in plain_file(),
        ops in prop::collection::vec(op(), 1..6),
    ) {
        let mut opened = Opened::open(&plain, None).unwrap();
        opened.encrypt(&Encryption {
            recipients: vec![MAIN.to_string()],
            selector: Selector::Default,
            mac_only_encrypted: false,
        }).unwrap();
        let encrypted = opened.write().unwrap();
        check(&encrypted, &ops)?;
    }

    #[test]
    fn unchanged_values_keep_their_ciphertext_in_sops_files(
        file in prop::sample::select(&SOPS_WRITTEN[..]),
        ops in prop::collection::vec(op(), 1..6),
    ) {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{file}")).unwrap();
        check(&text, &ops)?;
    }
}
