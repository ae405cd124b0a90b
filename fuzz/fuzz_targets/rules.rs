//! Fuzz target: the access-control parser and rule evaluation. The input is an access-control
//! file, a NUL byte, then secret identities one per line. Parsing must never panic, and
//! `evaluate` must agree with the last-match-wins definition for every identity.
#![no_main]

use kubevault::vault::access::evaluate;
use kubevault::vault::rules::{can_read, parse_rules};
use kubevault::vault::{Secret, User, Vault};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rules_text, identities) = text.split_once('\0').unwrap_or((text, ""));
    let (rules, _errors) = parse_rules(rules_text);
    let identities: Vec<&str> = identities.lines().take(64).collect();
    let vault = Vault {
        secrets: identities
            .iter()
            .map(|id| Secret {
                identity: id.to_string(),
                name: String::new(),
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
        .filter(|(_, id)| can_read(&rules, id))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(grants.readable[0], want);
});
