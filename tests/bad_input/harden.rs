//! Catalogue cases of the second hardening round: SOPS leaves sops reads as null, crafted age
//! headers, key files that block, vaults and key files outside the package, hostile output
//! directories, symlink fan-out, KRM clashes and duplicate keys, deny rules over every spelling of
//! a name, glob forms and rule spellings that fail open, `<user>-token` names, control
//! characters in file names and `--refresh` durations. Each class runs in several modes
//! (`generate`, `check`, the KRM function, the legacy plugin).

use super::{Case, Mode, rules, s, secret};
use crate::common::{SENTINEL, Sandbox};

const FLAT: &str = include_str!("../fixtures/sops/flat.enc.yaml");
const KEYS: &str = include_str!("../fixtures/sops/keys.txt");

/// A functionConfig for `vault/` with extra `spec` lines.
fn fc(spec: &str) -> String {
    format!(
        "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: test\nspec:\n{spec}"
    )
}

fn list(items: &str, spec: &str) -> Vec<u8> {
    crate::common::resource_list(items, &fc(spec)).into_bytes()
}

fn cmd(
    name: &'static str,
    exit: i32,
    setup: impl Fn(&Sandbox) + 'static,
    args: &[&'static str],
    env: &[(&'static str, &'static str)],
    stdin: Option<Vec<u8>>,
) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        mode: Mode::Cmd {
            args: args.to_vec(),
            env: env.to_vec(),
            stdin,
        },
        exit,
    }
}

/// The KRM function with items and `spec` lines.
fn krm(
    name: &'static str,
    exit: i32,
    setup: impl Fn(&Sandbox) + 'static,
    items: &str,
    spec: &str,
) -> Case {
    cmd(name, exit, setup, &[], &[], Some(list(items, spec)))
}

/// A ResourceList whose functionConfig kpt read from `@SANDBOX@/pkg/fn-config.yaml`: the
/// package is `pkg/`, and `victim/` is outside it.
fn in_pkg(spec: &str) -> Vec<u8> {
    crate::common::resource_list(
        "",
        &fc(spec).replace(
            "metadata:\n  name: test\n",
            "metadata:\n  name: test\n  annotations:\n    internal.config.kubernetes.io/package-path: @SANDBOX@/pkg\n    internal.config.kubernetes.io/path: fn-config.yaml\n",
        ),
    )
    .into_bytes()
}

/// The legacy plugin with a config of these `spec` lines.
fn plugin(name: &'static str, exit: i32, setup: impl Fn(&Sandbox) + 'static, spec: &str) -> Case {
    let config = fc(spec);
    cmd(
        name,
        exit,
        move |sb| {
            setup(sb);
            sb.file("plugin-config.yaml", &config);
        },
        &["plugin-config.yaml"],
        &[],
        None,
    )
}

const GEN_KEY: &[&str] = &[
    "generate",
    "--vault-dir",
    "vault",
    "--age-key-file",
    "keys.txt",
];
const CHECK_KEY: &[&str] = &[
    "check",
    "--vault-dir",
    "vault",
    "--age-key-file",
    "keys.txt",
];
const KEY_SPEC: &str = "  vaultDir: vault\n  decryption:\n    ageKeyFile: keys.txt\n";

/// The SOPS fixture as `kvstore/db.yaml`, with `line` inserted before `port:` (or the line
/// starting with `replace` replaced by it), and the key file.
fn tampered(sb: &Sandbox, line: &str, replace: Option<&str>) {
    let text = match replace {
        Some(start) => FLAT
            .lines()
            .map(|l| {
                if l.starts_with(start) {
                    s(line)
                } else {
                    l.to_string()
                }
            })
            .map(|l| format!("{l}\n"))
            .collect(),
        None => FLAT.replacen("\nport: ", &format!("\n{}\nport: ", s(line)), 1),
    };
    secret(sb, "db.yaml", text);
    sb.file("keys.txt", KEYS);
}

/// The fixture with its one age `enc` replaced by `enc` (armored, indented by the caller).
fn with_enc(sb: &Sandbox, entries: &str) {
    let start = FLAT.find("    age:\n").unwrap();
    let end = FLAT.find("    lastmodified:").unwrap();
    let text = format!("{}    age:\n{entries}{}", &FLAT[..start], &FLAT[end..]);
    secret(sb, "db.yaml", text);
    sb.file("keys.txt", KEYS);
}

/// An armored age file with `n` fake stanzas, as a YAML block under `enc: |`.
fn fake_enc(n: usize) -> String {
    use base64::Engine;
    let stanza = "-> X25519 bm90IGEga2V5IGF0IGFsbCBidXQgdGhlIHJpZ2h0IHNpemU\nbm90IGEgcmVhbCBib2R5IGVpdGhlciwganVzdCA0MyBjaGFyYWN0ZXJzIG9rYXk\n";
    let header = format!("age-encryption.org/v1\n{}--- AAAA\n", stanza.repeat(n));
    let b64 = base64::engine::general_purpose::STANDARD.encode(header);
    let mut out = String::from(
        "        - recipient: age1fake\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n",
    );
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str("            ");
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("            -----END AGE ENCRYPTED FILE-----\n");
    out
}

/// The fixture's real age entry, `n` times.
fn real_entries(n: usize) -> String {
    let start = FLAT.find("    age:\n").unwrap() + "    age:\n".len();
    let end = FLAT.find("    lastmodified:").unwrap();
    FLAT[start..end].repeat(n)
}

/// A victim package next to the sandbox's: `victim/vault` with the sentinel, `victim/key.txt`.
fn victim(sb: &Sandbox) {
    sb.file("victim/vault/kvstore/stolen", s("k: @S@\n"));
    sb.file("victim/vault/access_control/mallory", "**\n");
    sb.file("victim/key.txt", s("# @S@\n"));
}

fn mkfifo(path: &std::path::Path) {
    assert!(
        std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success()
    );
}

const OUT: &[&str] = &["generate", "--vault-dir", "vault", "--output-dir", "out"];

/// `levels` folders under `kvstore/fan`, each with two links to the one below.
fn fan_out(sb: &Sandbox, top: &str, levels: usize, leaf: &str) {
    sb.file(&format!("vault/{top}/fan/d0/leaf"), s(leaf));
    for level in 1..=levels {
        for link in ["a", "b"] {
            sb.symlink(
                format!("../d{}", level - 1),
                &format!("vault/{top}/fan/d{level}/{link}"),
            );
        }
    }
}

/// A case run in every mode ([`Mode::Everywhere`]: generate, KRM, `check` text and JSON, and
/// the query commands).
fn everywhere(name: &'static str, exit: i32, setup: impl Fn(&Sandbox) + 'static) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        mode: Mode::Everywhere,
        exit,
    }
}

/// `kvstore/<file>` holding the sentinel and alice's rules `rules`.
fn spelled(sb: &Sandbox, file: &str, rules_text: &str) {
    secret(sb, file, s("k: @S@\n"));
    rules(sb, "alice", rules_text);
}

const CAN_READ: &[&str] = &["can-read", "alice", "--vault-dir", "vault"];

/// A token Secret kubevault generated for `bob`, as an input item (`ns` its namespace lines,
/// `labels` its labels), holding the sentinel as its token.
fn bob_token(ns: &str, labels: &str) -> String {
    format!(
        "- apiVersion: v1\n  kind: \"Secret\"\n  metadata:\n    name: bob-token\n{ns}{labels}    annotations:\n      kubevault.dev/generator: test\n  type: kubernetes.io/service-account-token\n  data:\n    token: {}\n",
        base64_of(SENTINEL)
    )
}

const MANAGED: &str = "    labels:\n      app.kubernetes.io/managed-by: kubevault\n";
const IN_NS: &str = "    namespace: kubevault-kvstore\n";

fn refresh(name: &'static str, exit: i32, duration: &'static str) -> Case {
    // `--refresh=D`, so that `-1h` is the flag's value, not a flag.
    let flag: &'static str = Box::leak(format!("--refresh={duration}").into_boxed_str());
    let args: &'static [&'static str] = Box::leak(
        vec!["external-secret", "planted", "--vault-dir", "vault", flag].into_boxed_slice(),
    );
    cmd(name, exit, |_| {}, args, &[], None)
}

pub fn cases() -> Vec<Case> {
    let planted_secret = |ns: &str, name: &str| {
        format!(
            "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: {name}\n{ns}  data:\n    k: {}\n",
            base64_of(SENTINEL)
        )
    };
    vec![
        // ---- 13.2: SOPS leaves sops reads as null ----
        cmd(
            "sops_null_tag_with_text",
            1,
            |sb| tampered(sb, "extra: !!null @S@", None),
            GEN_KEY,
            &[],
            None,
        ),
        cmd(
            "sops_int_tag_with_text_check",
            1,
            |sb| tampered(sb, "extra: !!int @S@", None),
            CHECK_KEY,
            &[],
            None,
        ),
        krm(
            "sops_bool_tag_with_text_krm",
            1,
            |sb| tampered(sb, "extra: !!bool @S@", None),
            "",
            KEY_SPEC,
        ),
        plugin(
            "sops_invalid_binary_in_clear_key_plugin",
            1,
            |sb| tampered(sb, "extra_unencrypted: !!binary @S@%%", None),
            KEY_SPEC,
        ),
        cmd(
            "sops_timestamp_tag_over_empty_value",
            1,
            |sb| tampered(sb, "empty: !!timestamp @S@", Some("empty: ")),
            GEN_KEY,
            &[],
            None,
        ),
        cmd(
            "sops_float_tag_over_null_value",
            1,
            |sb| tampered(sb, "bare: !!float @S@", Some("bare: ")),
            GEN_KEY,
            &[],
            None,
        ),
        // ---- 13.3: crafted age headers ----
        cmd(
            "sops_age_2000_fake_stanzas",
            1,
            |sb| with_enc(sb, &fake_enc(2000)),
            GEN_KEY,
            &[],
            None,
        ),
        krm(
            "sops_age_9_fake_stanzas_krm",
            1,
            |sb| with_enc(sb, &fake_enc(9)),
            "",
            KEY_SPEC,
        ),
        cmd(
            "sops_age_300_recipients",
            1,
            |sb| with_enc(sb, &real_entries(300)),
            GEN_KEY,
            &[],
            None,
        ),
        cmd(
            "sops_age_enc_too_large_check_without_key",
            1,
            |sb| with_enc(sb, &fake_enc(60)),
            &["check", "--vault-dir", "vault"],
            &[],
            None,
        ),
        // ---- 13.4: key files that block or are not files ----
        krm(
            "keyfile_fifo_krm",
            1,
            |sb| {
                tampered(sb, "", Some("#"));
                mkfifo(&sb.path().join("key.fifo"));
            },
            "",
            "  vaultDir: vault\n  decryption:\n    ageKeyFile: key.fifo\n",
        ),
        cmd(
            "keyfile_dev_zero_generate",
            1,
            |sb| tampered(sb, "", Some("#")),
            &[
                "generate",
                "--vault-dir",
                "vault",
                "--age-key-file",
                "/dev/zero",
            ],
            &[],
            None,
        ),
        plugin(
            "keyfile_directory_plugin",
            1,
            |sb| tampered(sb, "", Some("#")),
            "  vaultDir: vault\n  decryption:\n    ageKeyFile: vault\n",
        ),
        cmd(
            "keyfile_link_to_dev_stdout_allowed_outside",
            1,
            |sb| {
                tampered(sb, "", Some("#"));
                sb.symlink("/dev/stdout", "out.key");
            },
            &[],
            &[("KUBEVAULT_ALLOW_OUTSIDE", "1")],
            Some(list(
                "",
                "  vaultDir: vault\n  decryption:\n    ageKeyFile: out.key\n",
            )),
        ),
        cmd(
            "keyfile_sparse_17_mib",
            1,
            |sb| {
                tampered(sb, "", Some("#"));
                let file = std::fs::File::create(sb.path().join("big.key")).unwrap();
                file.set_len(17 << 20).unwrap();
            },
            &[
                "generate",
                "--vault-dir",
                "vault",
                "--age-key-file",
                "big.key",
            ],
            &[],
            None,
        ),
        // ---- 13.5: the vault and key file stay inside the package ----
        krm(
            "confine_vault_dir_parent_krm",
            1,
            victim,
            "",
            "  vaultDir: ../victim/vault\n",
        ),
        krm(
            "confine_vault_dir_absolute_krm",
            1,
            victim,
            "",
            "  vaultDir: /proc/self/cwd/victim/vault\n",
        ),
        cmd(
            "confine_vault_dir_committed_symlink_krm",
            1,
            |sb| {
                victim(sb);
                sb.symlink("../victim/vault", "pkg/vault");
            },
            &[],
            &[],
            Some(in_pkg("  vaultDir: vault\n")),
        ),
        cmd(
            "confine_vault_dir_parent_existing_krm",
            1,
            victim,
            &[],
            &[],
            Some(in_pkg("  vaultDir: ../victim/vault\n")),
        ),
        cmd(
            "confine_vault_dir_parent_missing_krm",
            1,
            |sb| std::fs::create_dir_all(sb.path().join("pkg")).unwrap(),
            &[],
            &[],
            Some(in_pkg("  vaultDir: ../victim/vault\n")),
        ),
        plugin(
            "confine_vault_dir_dotdot_plugin",
            1,
            victim,
            "  vaultDir: vault/../../victim/vault\n",
        ),
        krm(
            "confine_key_file_outside_existing",
            1,
            |sb| {
                victim(sb);
                tampered(sb, "", Some("#"));
            },
            "",
            "  vaultDir: vault\n  decryption:\n    ageKeyFile: ../victim/key.txt\n",
        ),
        krm(
            "confine_key_file_outside_missing",
            1,
            |sb| tampered(sb, "", Some("#")),
            "",
            "  vaultDir: vault\n  decryption:\n    ageKeyFile: ../victim/key.txt\n",
        ),
        plugin(
            "confine_key_file_etc_shadow_plugin",
            1,
            |sb| tampered(sb, "", Some("#")),
            "  vaultDir: vault\n  decryption:\n    ageKeyFile: /etc/shadow\n",
        ),
        cmd(
            "confine_argocd_env_dir",
            1,
            victim,
            &["generate"],
            &[("ARGOCD_ENV_KUBEVAULT_DIR", "../victim/vault")],
            None,
        ),
        cmd(
            "confine_argocd_app_default_dir_symlink",
            1,
            |sb| {
                std::fs::remove_dir_all(sb.vault_dir()).unwrap();
                sb.symlink("../kubevault-test-victim-app/vault", "vault");
            },
            &["generate"],
            &[("ARGOCD_APP_NAME", "team")],
            None,
        ),
        cmd(
            "confine_opt_out_allows_outside",
            0,
            victim,
            &[],
            &[("KUBEVAULT_ALLOW_OUTSIDE", "1")],
            Some(in_pkg("  vaultDir: ../victim/vault\n")),
        ),
        // ---- 13.6 / 14.10: hostile output directories ----
        cmd(
            "output_dir_planted_symlink",
            1,
            |sb| {
                sb.file("outside/target", s("@S@\n"));
                sb.symlink("../outside/target", "out/secret_planted.yaml");
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_foreign_file_in_the_way",
            1,
            |sb| {
                sb.file("out/secret_planted.yaml", s("mine: @S@\n"));
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_manifest_lists_other_files",
            0,
            |sb| {
                sb.file("out/README.md", s("@S@\n"));
                sb.file("outside/x", s("@S@\n"));
                sb.file(
                    "out/.kubevault-generated",
                    "README.md\n../outside/x\n/etc/passwd\nsecret_planted.yaml\n",
                );
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_manifest_is_dev_zero",
            1,
            |sb| {
                sb.symlink("/dev/zero", "out/.kubevault-generated");
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_manifest_is_a_fifo",
            1,
            |sb| {
                std::fs::create_dir_all(sb.path().join("out")).unwrap();
                mkfifo(&sb.path().join("out/.kubevault-generated"));
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_target_is_a_fifo",
            1,
            |sb| {
                std::fs::create_dir_all(sb.path().join("out")).unwrap();
                mkfifo(&sb.path().join("out/secret_planted.yaml"));
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_is_a_file",
            1,
            |sb| {
                sb.file("out", "not a directory\n");
            },
            OUT,
            &[],
            None,
        ),
        cmd(
            "output_dir_inside_the_vault",
            1,
            |_| {},
            &[
                "generate",
                "--vault-dir",
                "vault",
                "--output-dir",
                "vault/kvstore/rendered",
            ],
            &[],
            None,
        ),
        cmd(
            "output_dir_inside_the_vault_through_a_link",
            1,
            |sb| {
                sb.symlink("vault/access_control", "rendered");
            },
            &[
                "generate",
                "--vault-dir",
                "vault",
                "--output-dir",
                "rendered/new",
            ],
            &[],
            None,
        ),
        // ---- 13.7: symlink fan-out ----
        cmd(
            "walk_symlink_fan_out",
            1,
            |sb| fan_out(sb, "kvstore", 12, "k: @S@\n"),
            &["generate", "--vault-dir", "vault"],
            &[],
            None,
        ),
        krm(
            "walk_directory_linked_twice_krm",
            1,
            |sb| {
                sb.file("vault/kvstore/common/db", s("k: @S@\n"));
                sb.symlink("common", "vault/kvstore/shared");
            },
            "",
            "  vaultDir: vault\n",
        ),
        cmd(
            "walk_access_control_fan_out_check",
            1,
            |sb| fan_out(sb, "access_control", 6, "planted\n"),
            &["check", "--vault-dir", "vault"],
            &[],
            None,
        ),
        // ---- 13.8: KRM clashes and duplicate keys ----
        krm(
            "krm_clash_namespaceless_secret",
            1,
            |_| {},
            &planted_secret("", "planted"),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_clash_namespaceless_service_account",
            1,
            |_| {},
            "- apiVersion: v1\n  kind: \"ServiceAccount\"  # quoted: the echoed input is no half-render\n  metadata:\n    name: alice\n",
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_clash_namespaceless_role",
            1,
            |_| {},
            "- apiVersion: rbac.authorization.k8s.io/v1\n  kind: \"Role\"\n  metadata:\n    name: kubevault:alice:read\n  rules: []\n",
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_no_clash_in_another_namespace",
            0,
            |_| {},
            &planted_secret("    namespace: elsewhere\n", "planted"),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_duplicate_name_in_item",
            1,
            |_| {},
            "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: harmless\n    name: planted\n  data: {}\n",
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_duplicate_key_in_flow_item",
            1,
            |_| {},
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, name: b}}\n",
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_duplicate_key_in_function_config",
            1,
            victim,
            "",
            "  vaultDir: vault\n  vaultDir: ../victim/vault\n",
        ),
        plugin(
            "plugin_duplicate_key_in_config",
            1,
            |_| {},
            "  namespace: a\n  vaultDir: vault\n  namespace: b\n",
        ),
        // ---- 13.10: a deny rule matches every spelling of a Secret name ----
        everywhere("spelling_deny_upper_case", 0, |sb| {
            spelled(sb, "Prod/db", "**\n!prod/**\n")
        }),
        everywhere("spelling_deny_underscore", 0, |sb| {
            spelled(sb, "prod_db", "**\n!prod/**\n")
        }),
        everywhere("spelling_deny_dot", 0, |sb| {
            spelled(sb, "prod.db.yaml", "**\n!prod/**\n")
        }),
        everywhere("spelling_deny_canonical_dash", 0, |sb| {
            spelled(sb, "prod-db", "**\n!prod/db\n")
        }),
        everywhere("spelling_deny_rule_in_upper_case", 0, |sb| {
            spelled(sb, "prod/db", "**\n!PROD/DB\n")
        }),
        cmd(
            "spelling_deny_can_read_upper_case",
            0,
            |sb| spelled(sb, "PROD/DB.yaml", "**\n!prod/**\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_deny_can_read_mixed",
            0,
            |sb| spelled(sb, "Prod_Team.db", "**\n!prod/team/**\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_deny_can_read_dash",
            0,
            |sb| spelled(sb, "prod-db", "**\n!prod/db\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_deny_can_read_dot_and_space",
            0,
            |sb| spelled(sb, "prod.db cache", "**\n!prod/db/cache\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_deny_can_read_non_ascii",
            0,
            |sb| spelled(sb, "caf\u{e9}/db", "**\n!caf?/**\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_allow_is_exact",
            0,
            |sb| spelled(sb, "prod_db", "prod/db\n"),
            CAN_READ,
            &[],
            None,
        ),
        cmd(
            "spelling_later_allow_regrants",
            0,
            |sb| spelled(sb, "prod_db", "**\n!prod/**\nprod_db\n"),
            CAN_READ,
            &[],
            None,
        ),
        // ---- 13.11: glob-match forms that weaken a deny ----
        everywhere("rules_empty_brace_alternative_first", 1, |sb| {
            rules(sb, "bob", "**\n!prod/db{,/**}\n")
        }),
        everywhere("rules_empty_brace_alternative_last", 1, |sb| {
            rules(sb, "bob", "**\n!prod/{db,}\n")
        }),
        everywhere("rules_empty_brace_alternative_middle", 1, |sb| {
            rules(sb, "bob", "**\n!prod/{a,,b}\n")
        }),
        everywhere("rules_empty_brace_alternative_nested", 1, |sb| {
            rules(sb, "bob", "**\n!prod/{x,{,y}}\n")
        }),
        everywhere("rules_negated_class_bang", 1, |sb| {
            rules(sb, "bob", "**\n![!a]*/db\n")
        }),
        everywhere("rules_negated_class_caret", 1, |sb| {
            rules(sb, "bob", "prod/[^a]/**\n")
        }),
        plugin(
            "plugin_rules_negated_class",
            1,
            |sb| rules(sb, "bob", "**\n!prod[!/]db\n"),
            "  vaultDir: vault\n",
        ),
        // ---- 13.12: rule spellings that fail open ----
        everywhere("rules_space_after_bang", 1, |sb| {
            rules(sb, "bob", "**\n! planted\n")
        }),
        everywhere("rules_tab_after_bang", 1, |sb| {
            rules(sb, "bob", "**\n!\tplanted\n")
        }),
        everywhere("rules_zero_width_space_before_bang", 1, |sb| {
            rules(sb, "bob", "**\n\u{200B}!planted\n")
        }),
        everywhere("rules_bidi_override_before_bang", 1, |sb| {
            rules(sb, "bob", "**\n\u{202E}!planted\n")
        }),
        everywhere("rules_word_joiner_inside", 1, |sb| {
            rules(sb, "bob", "**\n!plan\u{2060}ted\n")
        }),
        everywhere("rules_byte_order_mark_on_line_two", 1, |sb| {
            rules(sb, "bob", "**\n\u{FEFF}!planted\n")
        }),
        everywhere("rules_fullwidth_bang", 1, |sb| {
            rules(sb, "bob", "**\n\u{FF01}planted\n")
        }),
        everywhere("rules_alveolar_click_bang", 1, |sb| {
            rules(sb, "bob", "**\n\u{01C3}planted\n")
        }),
        plugin(
            "plugin_rules_fullwidth_bang",
            1,
            |sb| rules(sb, "bob", "**\n\u{FF01}planted\n"),
            "  vaultDir: vault\n",
        ),
        // ---- 13.13: <user>-token names ----
        everywhere("token_shaped_name_without_user", 0, |sb| {
            spelled(sb, "bob-token", "**\n")
        }),
        everywhere("token_shaped_name_nested", 0, |sb| {
            spelled(sb, "staging/payments-api/token.yaml", "**\n")
        }),
        everywhere("token_shaped_name_not_granted", 0, |sb| {
            spelled(sb, "bob-token", "planted\n")
        }),
        krm(
            "krm_token_secret_in_input",
            1,
            |sb| spelled(sb, "bob-token", "**\n"),
            &bob_token(IN_NS, MANAGED),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_token_secret_in_input_without_namespace",
            1,
            |sb| spelled(sb, "bob/token", "**\n"),
            &bob_token("", MANAGED),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_token_secret_in_input_not_granted",
            1,
            |sb| spelled(sb, "bob-token", "planted\n"),
            &bob_token(IN_NS, MANAGED),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_token_secret_in_another_namespace",
            0,
            |sb| spelled(sb, "bob-token", "**\n"),
            &bob_token("    namespace: elsewhere\n", MANAGED),
            "  vaultDir: vault\n",
        ),
        krm(
            "krm_token_secret_in_input_for_a_live_user",
            0,
            |sb| rules(sb, "bob", "planted\n"),
            &bob_token(IN_NS, MANAGED),
            "  vaultDir: vault\n",
        ),
        // ---- 13.14: control characters in vault file names ----
        everywhere("file_name_newline_in_kvstore", 1, |sb| {
            secret(sb, "a\ncheck ok: 0 errors", s("k: @S@\n"))
        }),
        everywhere("file_name_escape_in_kvstore", 1, |sb| {
            secret(sb, "x\u{1b}[2Jy", s("k: @S@\n"))
        }),
        everywhere("file_name_carriage_return_in_folder", 1, |sb| {
            secret(sb, "dir\rname/db", s("k: @S@\n"))
        }),
        everywhere("file_name_bidi_in_kvstore", 1, |sb| {
            secret(sb, "evil\u{202E}lmay.yaml", s("k: @S@\n"))
        }),
        everywhere("file_name_newline_in_access_control", 1, |sb| {
            rules(sb, "bob\nok", "planted\n")
        }),
        plugin(
            "plugin_file_name_tab_in_kvstore",
            1,
            |sb| secret(sb, "tab\there", s("k: @S@\n")),
            "  vaultDir: vault\n",
        ),
        // ---- 13.16: --refresh as Go's time.ParseDuration reads it ----
        refresh("refresh_days_are_not_go", 2, "1d"),
        refresh("refresh_without_unit", 2, "90"),
        refresh("refresh_negative", 2, "-1h"),
        refresh("refresh_overflows_int64", 2, "2562048h"),
        refresh("refresh_two_dots", 2, "1.5.h"),
        refresh("refresh_space_inside", 2, "1h 30m"),
        refresh("refresh_go_compound_is_fine", 0, "1h30m0.5s"),
        refresh("refresh_go_micro_sign_is_fine", 0, "1\u{b5}s"),
        refresh("refresh_go_leading_dot_is_fine", 0, ".5h"),
        refresh("refresh_zero_is_fine", 0, "0"),
    ]
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
