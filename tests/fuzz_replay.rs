//! Replays the fuzz seeds (`fuzz/seeds/<target>/`) and every committed crash reproducer
//! (`tests/fuzz_regressions/<target>/`) through the same library calls and invariants as the
//! libFuzzer targets in `fuzz/fuzz_targets/`, without any fuzz tooling, so `cargo test` keeps
//! them fixed. Plus the hand-made hostile inputs below, which must finish quickly.

use std::path::Path;
use std::time::{Duration, Instant};

use kubevault::config;
use kubevault::krm;
use kubevault::limits::{MAX_KEYS_PER_SECRET, MAX_SECRET_BYTES};
use kubevault::vault::access::evaluate;
use kubevault::vault::names::is_dns1123_label;
use kubevault::vault::names::secret_name;
use kubevault::vault::rules::{can_read, parse_rules};
use kubevault::vault::secret_file::{Parsed, parse};
use kubevault::vault::{Secret, User, Vault};
use kubevault::yaml::{Limits, parse_stream};

fn secret_file(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(kubevault::yaml::fast_path_agrees(text));
    }
    if let Ok(Parsed::Plain(secret)) = parse(data) {
        assert!(secret.len() <= MAX_KEYS_PER_SECRET);
        let total: usize = secret.iter().map(|(k, v)| k.len() + v.0.len()).sum();
        assert!(total <= MAX_SECRET_BYTES);
    }
}

fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rules_text, identities) = text.split_once('\0').unwrap_or((text, ""));
    let (rules, _) = parse_rules(rules_text);
    // As a vault holds them: one identity per Secret name, in name order (deny rules match
    // every spelling of a name, through the name).
    let mut by_name = std::collections::BTreeMap::new();
    for id in identities.lines().take(64) {
        by_name.entry(secret_name(id)).or_insert(id);
    }
    let identities: Vec<(String, &str)> = by_name.into_iter().collect();
    let vault = Vault {
        secrets: identities
            .iter()
            .map(|(name, id)| Secret {
                identity: id.to_string(),
                name: name.clone(),
                source: String::new(),
                data: Default::default(),
                shape: Default::default(),
            })
            .collect(),
        users: vec![User {
            name: "fuzz".into(),
            source: "access_control/fuzz".into(),
            rules: rules.clone(),
        }],
        ..Default::default()
    };
    let want: Vec<usize> = (0..identities.len())
        .filter(|&i| can_read(&rules, identities[i].1))
        .collect();
    assert_eq!(evaluate(&vault).readable[0], want);
}

fn resource_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(kubevault::yaml::fast_path_agrees(text));
    assert!(krm::read_agrees(text));
    if let Ok(list) = krm::read(text) {
        let n = list.items.len();
        let out = krm::write(
            &list.api_version,
            &list.items,
            list.function_config,
            Vec::new(),
        );
        let again = krm::read(&out).expect("kubevault's own ResourceList reads back");
        assert_eq!(again.items.len(), n);
    }
}

fn function_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = parse_stream(text, &Limits::default()) else {
        return;
    };
    if let Ok(cfg) = config::parse(docs.iter().find(|d| !d.is_null())) {
        assert!(!cfg.name.is_empty());
        assert!(is_dns1123_label(&cfg.namespace));
        assert!(!cfg.vault_dir.is_empty());
    }
}

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 4] = [
    ("secret_file", secret_file),
    ("rules", rules),
    ("resource_list", resource_list),
    ("function_config", function_config),
];

#[test]
fn seeds_and_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for (name, target) in TARGETS {
        for dir in [
            root.join("fuzz/seeds").join(name),
            root.join("tests/fuzz_regressions").join(name),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                target(&std::fs::read(&path).unwrap());
                replayed += 1;
            }
        }
    }
    assert!(replayed >= 8, "replayed {replayed} inputs");
}

/// Inputs built to be slow or big; each target must finish them within seconds.
#[test]
fn hostile_inputs_finish_quickly() {
    let laughs = {
        let mut t = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (i, c) in ('b'..='z').enumerate() {
            let p = (b'a' + i as u8) as char;
            t.push_str(&format!(
                "{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            ));
        }
        t
    };
    let many_stars = format!("{}\0{}\n", "*a".repeat(500), "a".repeat(1000));
    let braces = format!("{}\0{}\n", "{a,b}".repeat(8), "ab".repeat(8));
    let deep = "[".repeat(100_000);
    let keys: String = (0..50_000).map(|i| format!("k{i}: v\n")).collect();
    let inputs: Vec<(Target, Vec<u8>)> = vec![
        (secret_file, laughs.clone().into_bytes()),
        (resource_list, laughs.clone().into_bytes()),
        (function_config, laughs.into_bytes()),
        (rules, many_stars.into_bytes()),
        (rules, braces.into_bytes()),
        (secret_file, deep.clone().into_bytes()),
        (resource_list, deep.into_bytes()),
        (secret_file, keys.into_bytes()),
    ];
    for (i, (target, data)) in inputs.iter().enumerate() {
        let start = Instant::now();
        target(data);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "input {i} took {:?}",
            start.elapsed()
        );
    }
}
