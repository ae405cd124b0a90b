//! Property tests (proptest) over generated vaults: rendering is deterministic and independent
//! of file order, rule evaluation equals a naive reference, no Role has an empty
//! `resourceNames`, and no output of a failed run contains a value of a file that failed.

mod common;

use glob_match::glob_match;
use kubevault::app::krm_function;
use kubevault::object::Object;
use kubevault::render::{RenderSettings, render};
use kubevault::vault::access::evaluate;
use kubevault::vault::model::build;
use kubevault::vault::names::secret_name;
use kubevault::vault::spelling::SpelledGlob;
use kubevault::vault::walk::{VaultFile, VaultFiles};
use kubevault::yaml::{Node, emit_stream};
use proptest::prelude::*;

const SEGMENTS: &[&str] = &["app", "db", "prod", "a-b", "tls", "x1", "Shared"];

fn identity() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(SEGMENTS), 1..4).prop_map(|s| s.join("/"))
}

fn pattern() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        prop::sample::select(SEGMENTS).prop_map(str::to_string),
        Just("*".to_string()),
        Just("**".to_string()),
        Just("?b".to_string()),
        Just("{app,db}".to_string()),
        Just("[a-d]*".to_string()),
    ];
    (
        any::<bool>(),
        prop::collection::vec(part, 1..4).prop_map(|p| p.join("/")),
    )
        .prop_map(|(deny, p)| if deny { format!("!{p}") } else { p })
}

fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{0,12}"
}

/// A secret file's text: keys `k0..kn` with plain values.
fn secret_text() -> impl Strategy<Value = String> {
    prop::collection::vec(value(), 0..4).prop_map(|values| {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("k{i}: \"{v}\"\n"))
            .collect()
    })
}

const USERS: &[&str] = &["alice", "bob", "carol", "dave"];

/// `(relative name, content)` pairs of one tree.
type Tree = Vec<(String, String)>;

/// Files of a vault: kvstore files (unique identities) and up to four users.
fn vault_files() -> impl Strategy<Value = (Tree, Tree)> {
    let kv = prop::collection::btree_map(identity(), secret_text(), 0..8)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>());
    let ac =
        prop::collection::vec(prop::collection::vec(pattern(), 0..6), 0..4).prop_map(|users| {
            users
                .into_iter()
                .enumerate()
                .map(|(i, rules)| (USERS[i].to_string(), rules.join("\n")))
                .collect::<Vec<_>>()
        });
    (kv, ac)
}

fn files(kv: &[(String, String)], ac: &[(String, String)]) -> VaultFiles {
    VaultFiles {
        kvstore: kv
            .iter()
            .map(|(id, text)| VaultFile {
                rel: format!("kvstore/{id}"),
                bytes: text.clone().into_bytes(),
            })
            .collect(),
        access_control: Some(
            ac.iter()
                .map(|(user, text)| VaultFile {
                    rel: format!("access_control/{user}"),
                    bytes: text.clone().into_bytes(),
                })
                .collect(),
        ),
        metadata: None,
        ..VaultFiles::default()
    }
}

fn settings() -> RenderSettings {
    RenderSettings {
        namespace: "ns".into(),
        create_namespace: true,
        generator: "prop".into(),
    }
}

/// Renders in-memory files to the YAML stream, or `None` when the vault has errors.
fn rendered(files: &VaultFiles) -> Option<(String, Vec<Object>)> {
    let (vault, diags) = build(files, "ns", &|_| {
        Err(kubevault::vault::secret_file::FileProblem {
            line: 0,
            message: "no sops".into(),
        })
    });
    if diags.has_errors() {
        return None;
    }
    let grants = evaluate(&vault);
    let objects = render(&vault, &grants, &settings()).ok()?.objects;
    let stream = emit_stream(&objects.iter().map(Object::to_node).collect::<Vec<_>>());
    Some((stream, objects))
}

/// Whether a rule matches: its glob matches the identity, or (a deny) some other spelling of
/// the identity's Secret name.
fn reference_matches(allow: bool, pattern: &str, identity: &str) -> bool {
    glob_match(pattern, identity)
        || (!allow && SpelledGlob::new(pattern).matches(&secret_name(identity)))
}

/// The reference: the last matching rule decides, default deny.
fn reference_can_read(rules: &str, identity: &str) -> bool {
    let mut allowed = false;
    for line in rules.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (allow, pattern) = match line.strip_prefix('!') {
            Some(p) => (false, p),
            None => (true, line),
        };
        if reference_matches(allow, pattern, identity) {
            allowed = allow;
        }
    }
    allowed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn rendering_is_deterministic_and_order_independent(
        (kv, ac) in vault_files(),
        seed in any::<u64>(),
    ) {
        let first = rendered(&files(&kv, &ac));
        let second = rendered(&files(&kv, &ac));
        let mut shuffled_kv = kv.clone();
        let mut shuffled_ac = ac.clone();
        // A deterministic shuffle from the seed: rotate and reverse.
        if !shuffled_kv.is_empty() {
            let k = (seed as usize) % shuffled_kv.len();
            shuffled_kv.rotate_left(k);
        }
        if seed & 1 == 1 {
            shuffled_kv.reverse();
            shuffled_ac.reverse();
        }
        let third = rendered(&files(&shuffled_kv, &shuffled_ac));
        let text = |r: &Option<(String, Vec<Object>)>| r.as_ref().map(|(s, _)| s.clone());
        prop_assert_eq!(text(&first), text(&second));
        prop_assert_eq!(text(&first), text(&third));
    }

    #[test]
    fn evaluation_equals_the_naive_reference((kv, ac) in vault_files()) {
        let (vault, diags) = build(&files(&kv, &ac), "ns", &|_| Err(kubevault::vault::secret_file::FileProblem { line: 0, message: "no sops".into() }));
        prop_assume!(!diags.has_errors());
        let grants = evaluate(&vault);
        for (u, user) in vault.users.iter().enumerate() {
            let rules_text = &ac.iter().find(|(name, _)| *name == user.name).unwrap().1;
            let want: Vec<usize> = vault
                .secrets
                .iter()
                .enumerate()
                .filter(|(_, s)| reference_can_read(rules_text, &s.identity))
                .map(|(i, _)| i)
                .collect();
            prop_assert_eq!(&grants.readable[u], &want, "user {}", user.name);
            for (r, rule) in user.rules.iter().enumerate() {
                let used = vault.secrets.iter().any(|s| reference_matches(rule.allow, &rule.pattern, &s.identity));
                prop_assert_eq!(grants.rule_used[u][r], used, "user {} rule {}", user.name, rule.line);
            }
        }
    }

    #[test]
    fn no_role_has_empty_resource_names((kv, ac) in vault_files()) {
        let Some((stream, objects)) = rendered(&files(&kv, &ac)) else {
            return Ok(());
        };
        for object in &objects {
            let node = object.to_node();
            if node.str_at(&["kind"]) != Some("Role") {
                continue;
            }
            let rules = node.get("rules").and_then(Node::as_seq).unwrap_or_default();
            prop_assert!(!rules.is_empty());
            for rule in rules {
                let names = rule.get("resourceNames").and_then(Node::as_seq);
                prop_assert!(names.is_some_and(|n| !n.is_empty()), "{:?}", object);
            }
        }
        prop_assert!(!stream.contains("resourceNames: []"));
    }
}

/// Ways to break a secret file around a planted value `V`.
const BREAKERS: &[&str] = &[
    "a: V\na: V\n",
    "a: V\nb:\n  c: V\n",
    "a: !custom V\n",
    "a: V\n---\nb: V\n",
    "bad key: V\n",
    "a: \"V\n",
    "- V\n",
    "a: V\n\tb: V\n",
    "a: [V, V]\n",
    "a: !!binary V%%\n",
    "x: &x V\n<<: *x\n",
    "a: {b: V}\n",
    "? [V]\n: V\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn no_output_contains_a_value_of_a_failed_file(
        breaker in prop::sample::select(BREAKERS),
        secret in "[A-Za-z0-9]{16,24}",
        good in secret_text(),
        user_rules in prop::collection::vec(pattern(), 0..4),
    ) {
        let planted = format!("PLANTED{secret}");
        let sb = common::Sandbox::vault();
        sb.file("vault/kvstore/good", &good);
        sb.file("vault/kvstore/broken.yaml", breaker.replace('V', &planted));
        sb.file("vault/access_control/alice", user_rules.join("\n"));
        let input = common::resource_list("", common::FN_CONFIG);
        let mut streamed = Vec::new();
        let report = krm_function(input.as_bytes(), sb.path(), &mut streamed).unwrap();
        prop_assert_eq!(report.exit, kubevault::exit::Exit::Failure, "{}", breaker);
        prop_assert!(streamed.is_empty(), "a failed run streamed output");
        let stdout = report.stdout.concat();
        prop_assert!(!stdout.contains(&planted), "stdout leaks for {:?}:\n{}", breaker, stdout);
        for line in &report.messages {
            prop_assert!(!line.contains(&planted), "message leaks for {:?}: {}", breaker, line);
        }
        prop_assert!(stdout.contains("\nitems: []\n"), "nothing half-rendered:\n{}", stdout);
    }
}
