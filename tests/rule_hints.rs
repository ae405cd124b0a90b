//! Access mistakes get the likely fix, through the real binary: each rule mistake of a newcomer
//! (a folder without `/**`, a `kvstore/` prefix, `.yaml`, a leading `/`, an inline comment, a
//! typo) in `check` text, `check --format json` and KRM results; no false typo warning for a
//! rule naming a secret dropped after a name clash; a mis-cased user file name; a mistyped
//! identity argument to `who-can-read`.

mod common;

use common::{FN_CONFIG, SENTINEL, Sandbox, resource_list, run};

const RULES: &str = "\
prod
kvstore/prod/**
prod/api.yaml
/prod/api
prod/** # note
prod/apj
!prod/dv/**
shared/tls
";

/// A vault whose one user makes every rule mistake (values are the sentinel).
fn mistakes() -> Sandbox {
    let s = Sandbox::vault();
    let value = format!("value: \"{SENTINEL}\"\n");
    for id in ["prod/api", "prod/db/main", "prod/db/replica", "shared/tls"] {
        s.file(&format!("vault/kvstore/{id}.yaml"), &value);
    }
    s.file("vault/access_control/alice", RULES);
    s
}

fn check(s: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["check", "--vault-dir", "vault"];
    all.extend_from_slice(args);
    let out = run(s.path(), &all, None, &[]);
    out.assert_no_sentinel();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    )
}

/// The KRM function's `results` (the ResourceList's items are the rendered Secrets).
fn krm_results(s: &Sandbox) -> String {
    let out = run(
        s.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    out.assert_no_sentinel();
    let list: serde_yaml::Value = serde_yaml::from_str(&out.stdout).expect("a ResourceList");
    format!(
        "exit: {}\n{}",
        out.code,
        serde_yaml::to_string(&list["results"]).unwrap()
    )
}

#[test]
fn rule_mistakes_get_the_likely_fix_in_text() {
    insta::assert_snapshot!(check(&mistakes(), &[]));
}

#[test]
fn rule_mistakes_get_the_likely_fix_in_json() {
    let text = check(&mistakes(), &["--format", "json"]);
    insta::assert_snapshot!(text);
}

#[test]
fn rule_mistakes_get_the_likely_fix_in_krm_results() {
    insta::assert_snapshot!(krm_results(&mistakes()));
}

#[test]
fn every_hint_names_a_rule_that_matches() {
    // Each suggested rule, appended to the user's file, matches a secret: no warning is left
    // for it (the original mistakes still warn, one each).
    let s = mistakes();
    let text = check(&s, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(
        text.split("--- stdout\n")
            .nth(1)
            .unwrap()
            .split("--- stderr")
            .next()
            .unwrap(),
    )
    .unwrap();
    let suggestions: Vec<String> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["message"].as_str())
        .filter_map(|m| {
            m.rsplit_once("write `")
                .map(|(_, r)| r.trim_end_matches('`').to_string())
        })
        .collect();
    assert_eq!(suggestions.len(), 7, "{text}");
    let fixed = format!("{RULES}{}\n", suggestions.join("\n"));
    s.file("vault/access_control/alice", &fixed);
    let after = check(&s, &[]);
    assert_eq!(after.matches("matches no secret").count(), 7, "{after}");
    for rule in &suggestions {
        assert!(
            !after.contains(&format!("`{}` matches", rule.trim_start_matches('!'))),
            "{rule} still matches nothing:\n{after}"
        );
    }
}

/// `app/db.yaml` and `app_db.yaml` clash (both are Secret `app-db`); the second is dropped. A
/// rule naming it is not "a rule that matches no secret": the clash is the one problem shown.
#[test]
fn rules_naming_a_secret_dropped_after_a_clash_get_no_typo_warning() {
    let s = Sandbox::vault();
    s.file("vault/kvstore/app/db.yaml", "a: \"1\"\n");
    s.file("vault/kvstore/app_db.yaml", "a: \"1\"\n");
    s.file("vault/kvstore/App/Cache.yaml", "a: \"1\"\n");
    s.file("vault/kvstore/app/cache.yaml", "a: \"1\"\n");
    s.file(
        "vault/access_control/bob",
        "app_db\n!app/cache\napp/db\nApp/Cache\n",
    );
    let text = check(&s, &[]);
    let json = check(&s, &["--format", "json"]);
    let krm = krm_results(&s);
    for out in [&text, &json, &krm] {
        assert!(!out.contains("matches no secret"), "{out}");
        assert!(out.contains("same Secret name"), "{out}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn a_mis_cased_user_file_gets_the_canonical_name() {
    let s = Sandbox::vault();
    s.file("vault/kvstore/app.yaml", "a: \"1\"\n");
    s.file("vault/access_control/Eve", "app\n");
    s.file("vault/access_control/Bob", "app\n");
    s.file("vault/access_control/bob", "app\n");
    s.file("vault/access_control/carol.yaml", "app\n");
    insta::assert_snapshot!(check(&s, &[]));
}

#[test]
fn who_can_read_suggests_the_nearest_identity() {
    let s = mistakes();
    let mut answers = String::new();
    for arg in [
        "prod/apj",
        "/prod/api",
        "kvstore/prod/api.yaml",
        "prod-api",
        "nothing",
    ] {
        let out = run(
            s.path(),
            &["who-can-read", arg, "--vault-dir", "vault"],
            None,
            &[],
        );
        out.assert_no_sentinel();
        answers.push_str(&format!("{arg} -> exit {}: {}", out.code, out.stderr));
    }
    insta::assert_snapshot!(answers);
}
