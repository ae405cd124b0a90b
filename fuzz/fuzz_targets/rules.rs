//! Fuzz target: the access-control parser and rule evaluation. The input is an access-control
//! file, a NUL byte, then secret identities one per line. Parsing must never panic, and
//! `evaluate` must agree with the last-match-wins definition for every identity (a vault's:
//! one per Secret name).
#![no_main]

use kubevault::vault::access::evaluate;
use kubevault::vault::names::secret_name;
use kubevault::vault::rules::{can_read, parse_rules};
use kubevault::vault::{Secret, User, Vault};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rules_text, identities) = text.split_once('\0').unwrap_or((text, ""));
    let (rules, _errors) = parse_rules(rules_text);
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
    let grants = evaluate(&vault);
    let want: Vec<usize> = identities
        .iter()
        .enumerate()
        .filter(|(_, id)| can_read(&rules, id.1))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(grants.readable[0], want);
});
