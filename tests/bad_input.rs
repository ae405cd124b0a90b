//! The bad-input catalogue: hostile or broken vault files, rules, functionConfigs and
//! ResourceLists, each run through the real binary with its expected exit code and a snapshot of
//! everything it printed (`tests/snapshots/bad_input__<case>.snap`). Every case plants the
//! sentinel secret (in the vault, and in the broken input where it can hide), and the sentinel
//! must appear in neither stdout nor stderr.

mod common;
#[path = "bad_input/harden.rs"]
mod harden;
#[path = "bad_input/spec_errors.rs"]
mod spec_errors;

use common::{FN_CONFIG, SENTINEL, Sandbox, resource_list, run};

/// How a case runs the binary.
enum Mode {
    /// `kubevault generate --vault-dir vault`.
    Generate,
    /// `kubevault generate` with extra arguments.
    GenerateArgs(&'static [&'static str]),
    /// The KRM function with this stdin.
    Krm(Vec<u8>),
    /// The legacy plugin with a config file of this content.
    Plugin(Vec<u8>),
    /// Any command line with extra environment and stdin; `@SANDBOX@` in an argument, a value
    /// or stdin is replaced by the sandbox path.
    Cmd {
        args: Vec<&'static str>,
        env: Vec<(&'static str, &'static str)>,
        stdin: Option<Vec<u8>>,
    },
    /// `generate`, then the KRM function, `check` and `check --format json` on the same vault:
    /// the same exit code from each and the sentinel in none (KRM `results` included).
    Everywhere,
}

struct Case {
    name: &'static str,
    /// Breaks the vault (it starts with `kvstore/planted` holding the sentinel and a user).
    setup: Box<dyn Fn(&Sandbox)>,
    mode: Mode,
    exit: i32,
}

/// A YAML case run in every mode ([`Mode::Everywhere`]).
fn yaml_case(name: &'static str, exit: i32, setup: impl Fn(&Sandbox) + 'static) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        mode: Mode::Everywhere,
        exit,
    }
}

/// YAML in secret and access-control files read as YAML 1.2 reads it, and every message about
/// it with line and key but no text of the file: tag text (every tag form may hold a value),
/// anchors and comments where a value was expected, tabs, block scalars, common mistakes.
fn yaml_cases() -> Vec<Case> {
    vec![
        // ---- tags: never shown, whatever the form ----
        yaml_case("yaml_tag_local", 1, |sb| {
            secret(sb, "t", s("password: !@S@\n"))
        }),
        yaml_case("yaml_tag_local_with_text", 1, |sb| {
            secret(sb, "t", s("a: 1\npassword: !@S@ more\n"))
        }),
        yaml_case("yaml_tag_secondary_handle", 1, |sb| {
            secret(sb, "t", s("password: !!@S@ x\n"))
        }),
        yaml_case("yaml_tag_verbatim", 1, |sb| {
            secret(sb, "t", s("password: !<tag:@S@> x\n"))
        }),
        yaml_case("yaml_tag_verbatim_local", 1, |sb| {
            secret(sb, "t", s("password: !<!@S@> x\n"))
        }),
        yaml_case("yaml_tag_directive_expanded", 1, |sb| {
            secret(sb, "t", s("%TAG !e! tag:@S@:\n---\npassword: !e!x y\n"))
        }),
        yaml_case("yaml_tag_undeclared_handle", 1, |sb| {
            secret(sb, "t", s("password: !e!@S@ y\n"))
        }),
        yaml_case("yaml_tag_only_document", 1, |sb| {
            secret(sb, "t", s("!@S@\n"))
        }),
        yaml_case("yaml_tag_on_a_mapping_value", 1, |sb| {
            secret(sb, "t", s("password: !@S@ {a: b}\n"))
        }),
        yaml_case("yaml_tag_verbatim_standard_is_accepted", 0, |sb| {
            secret(
                sb,
                "t",
                s("a: !<tag:yaml.org,2002:str> @S@\nb: !<tag:yaml.org,2002:binary> aGk=\n"),
            )
        }),
        // ---- anchors and comments where a value was expected (warnings) ----
        yaml_case("yaml_anchor_where_a_value_was_expected", 0, |sb| {
            secret(sb, "t", s("password: &@S@\nuser: admin\n"))
        }),
        yaml_case("yaml_comment_where_a_value_was_expected", 0, |sb| {
            secret(sb, "t", s("password: #@S@\nuser: admin\n"))
        }),
        yaml_case("yaml_comment_cuts_a_value_short", 0, |sb| {
            secret(sb, "t", s("password: @S@ #@S@\n"))
        }),
        yaml_case("yaml_comment_after_a_value_is_fine", 0, |sb| {
            secret(sb, "t", s("password: @S@ # rotated in May\n"))
        }),
        // ---- tabs, BOM, block scalars (YAML 1.2 reads them; nothing to warn about) ----
        yaml_case("yaml_tabs_after_colon", 0, |sb| {
            secret(
                sb,
                "t",
                s("port:\t5432\nneg:\t-1\n\"q\":\t@S@\nsp :\tv\nmany:\t\tv\n"),
            )
        }),
        yaml_case("yaml_tab_before_a_list_entry", 1, |sb| {
            secret(sb, "t", s("a:\t- @S@\n"))
        }),
        yaml_case("yaml_tab_indents_line_two", 1, |sb| {
            secret(sb, "t", s("a: 1\n\tb: @S@\n"))
        }),
        yaml_case("yaml_rules_with_a_bom", 0, |sb| {
            rules(sb, "bob", "\u{feff}planted\n");
            rules(sb, "carol", "\u{feff}\tplanted\n");
        }),
        yaml_case("yaml_empty_block_scalars_at_the_end", 0, |sb| {
            secret(sb, "a", "a: |\n");
            secret(sb, "b", "a: >+\n");
            secret(sb, "c", "a: |2 # c\n  \n   \n");
        }),
        yaml_case("yaml_block_scalar_without_final_line_break", 0, |sb| {
            secret(sb, "t", s("a: |\n  @S@"))
        }),
        // ---- mistakes, each with its hint ----
        yaml_case("yaml_unterminated_quote", 1, |sb| {
            secret(sb, "t", s("user: admin\npassword: \"@S@\nother: x\n"))
        }),
        yaml_case("yaml_colon_space_in_a_value", 1, |sb| {
            secret(sb, "t", s("password: abc: @S@\n"))
        }),
        yaml_case("yaml_nested_value", 1, |sb| {
            secret(sb, "t", s("db:\n  password: @S@\n"))
        }),
        yaml_case("yaml_list_value", 1, |sb| {
            secret(sb, "t", s("hosts:\n  - @S@\n"))
        }),
        yaml_case("yaml_unknown_escape", 1, |sb| {
            secret(sb, "t", s("password: \"@S@\\q\"\n"))
        }),
        yaml_case("yaml_value_starts_with_at", 1, |sb| {
            secret(sb, "t", s("password: @@S@\n"))
        }),
        yaml_case("yaml_alias_to_nothing", 1, |sb| {
            secret(sb, "t", s("password: *@S@\n"))
        }),
        yaml_case("yaml_line_without_colon", 1, |sb| {
            secret(sb, "t", s("user: admin\n@S@\n"))
        }),
    ]
}

fn case(name: &'static str, exit: i32, setup: impl Fn(&Sandbox) + 'static) -> Case {
    Case {
        name,
        setup: Box::new(setup),
        mode: Mode::Generate,
        exit,
    }
}

fn krm_case(name: &'static str, exit: i32, stdin: impl AsRef<[u8]>) -> Case {
    Case {
        name,
        setup: Box::new(|_| {}),
        mode: Mode::Krm(stdin.as_ref().to_vec()),
        exit,
    }
}

/// A KRM case with a valid item list and this functionConfig.
fn config_case(name: &'static str, exit: i32, function_config: &str) -> Case {
    krm_case(name, exit, resource_list("", function_config))
}

/// `text` with `@S@` replaced by the sentinel.
fn s(text: &str) -> String {
    text.replace("@S@", SENTINEL)
}

fn secret(sb: &Sandbox, name: &str, content: impl AsRef<[u8]>) {
    sb.file(&format!("vault/kvstore/{name}"), content);
}

fn rules(sb: &Sandbox, user: &str, content: impl AsRef<[u8]>) {
    sb.file(&format!("vault/access_control/{user}"), content);
}

fn billion_laughs(value: &str) -> String {
    let mut text = format!(
        "a: &a [\"{value}\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    for (i, c) in ('b'..='j').enumerate() {
        let p = (b'a' + i as u8) as char;
        text.push_str(&format!(
            "{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        ));
    }
    text
}

fn cases() -> Vec<Case> {
    let fc_header =
        "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: test\n";
    let good_list = resource_list("", FN_CONFIG);
    vec![
        // ---- secret files ----
        case("secret_truncated_flow_mapping", 1, |sb| {
            secret(sb, "t", s("a: {b: @S@"))
        }),
        case("secret_unclosed_quote", 1, |sb| {
            secret(sb, "t", s("a: \"@S@\nb: 1\n"))
        }),
        case("secret_tab_indentation", 1, |sb| {
            secret(sb, "t", s("a:\n\tb: @S@\n"))
        }),
        case("secret_bom_is_ignored", 0, |sb| {
            secret(sb, "t", s("\u{feff}a: @S@\n"))
        }),
        case("secret_crlf_line_endings", 0, |sb| {
            secret(sb, "t", s("a: @S@\r\nb: |\r\n  x\r\n"))
        }),
        case("secret_duplicate_key", 1, |sb| {
            secret(sb, "t", s("a: @S@\nb: 1\na: @S@\n"))
        }),
        case("secret_alias_to_mapping", 1, |sb| {
            secret(sb, "t", s("base: &b {k: @S@}\nx: *b\n"))
        }),
        case("secret_merge_key", 1, |sb| {
            secret(sb, "t", s("x: &x @S@\n<<: *x\n"))
        }),
        case("secret_billion_laughs", 1, |sb| {
            secret(sb, "t", billion_laughs(SENTINEL))
        }),
        case("secret_deep_nesting", 1, |sb| {
            secret(
                sb,
                "t",
                format!(
                    "a: {}{SENTINEL}{}\n",
                    "[".repeat(10_000),
                    "]".repeat(10_000)
                ),
            )
        }),
        case("secret_custom_tag", 1, |sb| {
            secret(sb, "t", s("a: !vault @S@\n"))
        }),
        case("secret_bad_binary", 1, |sb| {
            secret(sb, "t", s("a: !!binary @S@%%\n"))
        }),
        case("secret_huge_numbers_kept_as_text", 0, |sb| {
            secret(
                sb,
                "t",
                "big: 123456789012345678901234567890123456789\nexp: 1e99999999\nneg: -.inf\n",
            )
        }),
        case("secret_nul_byte_in_value", 1, |sb| {
            secret(sb, "t", s("a: @S@\0x\n"))
        }),
        case("secret_nul_byte_in_key", 1, |sb| {
            secret(sb, "t", s("k\0ey: @S@\n"))
        }),
        case("secret_json_object", 0, |sb| {
            secret(sb, "t.yaml", s("{\"a\": \"@S@\", \"n\": 1.10}"))
        }),
        case("secret_json_array", 1, |sb| secret(sb, "t", s("[\"@S@\"]"))),
        case("secret_invalid_utf8", 1, |sb| {
            secret(
                sb,
                "t",
                [s("ok: @S@\nbad: ").as_bytes(), b"\xff\xfe\n"].concat(),
            )
        }),
        case("secret_utf16_file", 1, |sb| {
            let utf16: Vec<u8> = s("a: @S@\n")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            secret(sb, "t", [&[0xff, 0xfe][..], &utf16].concat())
        }),
        case("secret_too_many_keys", 1, |sb| {
            let text: String = (0..1025).map(|i| format!("k{i}: {SENTINEL}\n")).collect();
            secret(sb, "t", text)
        }),
        case("secret_keys_and_values_over_1mib", 1, |sb| {
            // Under 1 MiB on disk, over it once the alias is expanded and the keys counted.
            let mut text = format!("a: &a {SENTINEL}{}\nb: *a\n", "v".repeat(520_000));
            text.extend((0..1000).map(|i| format!("key-number-{i:08}:\n")));
            secret(sb, "t", text)
        }),
        case("secret_nested_17_levels", 1, |sb| {
            secret(
                sb,
                "t",
                format!("a: {}{SENTINEL}{}\n", "[".repeat(17), "]".repeat(17)),
            )
        }),
        case("secret_file_over_1mib", 1, |sb| {
            secret(sb, "t", format!("a: {SENTINEL}{}\n", "x".repeat(1 << 20)))
        }),
        case("secret_complex_key", 1, |sb| {
            secret(sb, "t", s("? [a, b]\n: @S@\n"))
        }),
        case("secret_non_ascii_key", 1, |sb| {
            secret(sb, "t", s("clé: @S@\n"))
        }),
        case("secret_broken_sops_document", 1, |sb| {
            secret(
                sb,
                "t",
                s("a: ENC[AES256_GCM,data:@S@]\nsops:\n  mac: nope\n"),
            )
        }),
        case("secret_two_documents", 1, |sb| {
            secret(sb, "t", s("a: @S@\n---\nb: @S@\n"))
        }),
        // ---- paths ----
        case("path_not_utf8", 1, |sb| {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
            std::fs::write(sb.vault_dir().join("kvstore").join(name), s("a: @S@\n")).unwrap();
        }),
        case("path_too_deep", 1, |sb| {
            secret(sb, &format!("{}leaf", "d/".repeat(32)), s("a: @S@\n"))
        }),
        case("path_too_long", 1, |sb| {
            let dirs: Vec<String> = (0..5).map(|i| format!("{i}{}", "p".repeat(220))).collect();
            secret(sb, &format!("{}/leaf", dirs.join("/")), s("a: @S@\n"))
        }),
        case("path_fifo", 1, |sb| {
            let path = sb.vault_dir().join("kvstore/fifo");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success()
            );
        }),
        case("path_socket", 1, |sb| {
            let listener =
                std::os::unix::net::UnixListener::bind(sb.vault_dir().join("kvstore/sock"));
            drop(listener.unwrap());
        }),
        case("path_device_via_symlink", 1, |sb| {
            sb.symlink("/dev/zero", "vault/kvstore/zero");
        }),
        case("path_relative_symlink_escape", 1, |sb| {
            sb.file("outside/key", s("k: @S@\n"));
            sb.symlink("../../outside/key", "vault/kvstore/stolen");
        }),
        case("path_absolute_symlink_inside_vault", 1, |sb| {
            sb.symlink(sb.vault_dir().join("kvstore/planted"), "vault/kvstore/abs");
        }),
        case("path_kvstore_is_a_file", 1, |sb| {
            std::fs::remove_dir_all(sb.vault_dir().join("kvstore")).unwrap();
            sb.file("vault/kvstore", s("a: @S@\n"));
        }),
        // ---- access-control files ----
        case("rules_line_too_long", 1, |sb| {
            rules(sb, "bob", format!("{}\n", "a".repeat(1025)))
        }),
        case("rules_too_many", 1, |sb| {
            rules(
                sb,
                "bob",
                (0..1001).map(|i| format!("r{i}\n")).collect::<String>(),
            )
        }),
        case("rules_too_many_brace_groups", 1, |sb| {
            rules(sb, "bob", "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}\n")
        }),
        case("rules_unbalanced_class", 1, |sb| {
            rules(sb, "bob", "planted\napp/[a-z\n")
        }),
        case("rules_bare_bang", 1, |sb| rules(sb, "bob", "!\n")),
        case("rules_double_bang", 1, |sb| rules(sb, "bob", "!!planted\n")),
        case("rules_not_utf8", 1, |sb| rules(sb, "bob", b"plan\xffted\n")),
        case("rules_crlf_is_trimmed", 0, |sb| {
            rules(sb, "bob", "planted\r\n# c\r\n")
        }),
        case("rules_nul_byte", 1, |sb| {
            rules(sb, "bob", "planted\nx\0y\n")
        }),
        case("rules_user_name_uppercase", 1, |sb| {
            rules(sb, "Bob", "planted\n")
        }),
        case("rules_user_name_too_long", 1, |sb| {
            rules(sb, &"b".repeat(64), "planted\n")
        }),
        // ---- functionConfig (KRM mode) ----
        config_case(
            "config_unknown_fields",
            1,
            &format!("{fc_header}spec:\n  vaultDir: vault\n  vaultdir: x\nstatus: {{}}\n"),
        ),
        config_case(
            "config_wrong_kind",
            1,
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\n",
        ),
        config_case(
            "config_wrong_api_version",
            1,
            "apiVersion: kubevault.dev/v1\nkind: KubeVault\nmetadata:\n  name: x\n",
        ),
        config_case(
            "config_bool_as_string",
            1,
            &format!("{fc_header}spec:\n  vaultDir: vault\n  createNamespace: \"yes\"\n"),
        ),
        config_case(
            "config_bad_namespace",
            1,
            &format!("{fc_header}spec:\n  vaultDir: vault\n  namespace: Kube_Vault\n"),
        ),
        config_case(
            "config_vault_dir_mapping",
            1,
            &format!("{fc_header}spec:\n  vaultDir: {{a: b}}\n"),
        ),
        config_case(
            "config_missing_name",
            1,
            "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {}\nspec:\n  vaultDir: vault\n",
        ),
        config_case("config_is_a_list", 1, "- a\n- b\n"),
        config_case(
            "config_configmap_true_capitalised",
            1,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  vaultDir: vault\n  createNamespace: \"True\"\n",
        ),
        krm_case(
            "config_missing",
            1,
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
        ),
        // ---- ResourceList on stdin ----
        krm_case("stdin_empty", 1, ""),
        krm_case("stdin_only_whitespace", 1, "\n\n   \n"),
        krm_case(
            "stdin_json",
            0,
            r#"{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"n":"1.10"}}],"functionConfig":{"apiVersion":"kubevault.dev/v1alpha1","kind":"KubeVault","metadata":{"name":"test"},"spec":{"vaultDir":"vault"}}}"#,
        ),
        krm_case(
            "stdin_without_items",
            0,
            format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n{}",
                FN_CONFIG
                    .lines()
                    .map(|l| format!("  {l}\n"))
                    .collect::<String>()
            ),
        ),
        krm_case(
            "stdin_wrong_api_version",
            1,
            good_list.replace("config.kubernetes.io/v1", "config.kubernetes.io/v2"),
        ),
        krm_case(
            "stdin_wrong_kind",
            1,
            good_list.replace("kind: ResourceList", "kind: List"),
        ),
        krm_case(
            "stdin_items_not_a_list",
            1,
            good_list.replace("items: []", &s("items: {a: @S@}")),
        ),
        krm_case(
            "stdin_item_is_a_scalar",
            1,
            good_list.replace("items: []", &s("items:\n- @S@")),
        ),
        krm_case(
            "stdin_truncated",
            1,
            s(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- {apiVersion: v1, kind: Secret, data: {k: \"@S@",
            ),
        ),
        krm_case(
            "stdin_two_documents",
            1,
            format!("{good_list}---\n{good_list}"),
        ),
        krm_case(
            "stdin_not_utf8",
            1,
            [
                s("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{k: @S@}]\n")
                    .as_bytes(),
                b"\xc3\x28",
            ]
            .concat(),
        ),
        krm_case(
            "stdin_nul_byte",
            1,
            s("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{k: @S@\0}]\n"),
        ),
        krm_case(
            "stdin_tab_indentation",
            1,
            s("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n\t- {k: @S@}\n"),
        ),
        krm_case(
            "stdin_billion_laughs",
            1,
            format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nx:\n{}",
                billion_laughs(SENTINEL)
                    .lines()
                    .map(|l| format!("  {l}\n"))
                    .collect::<String>()
            ),
        ),
        krm_case(
            "stdin_deep_nesting",
            1,
            format!(
                "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [{}{SENTINEL}{}]\n",
                "[".repeat(5000),
                "]".repeat(5000)
            ),
        ),
        krm_case("stdin_scalar_document", 1, s("@S@\n")),
        krm_case(
            "stdin_over_the_cap",
            1,
            format!(
                "{good_list}# {}\n",
                "x".repeat(kubevault::limits::MAX_STDIN_BYTES)
            ),
        ),
        // ---- other modes ----
        Case {
            name: "plugin_config_empty",
            setup: Box::new(|_| {}),
            mode: Mode::Plugin(Vec::new()),
            exit: 1,
        },
        Case {
            name: "plugin_config_invalid_yaml",
            setup: Box::new(|_| {}),
            mode: Mode::Plugin(s("apiVersion: [@S@\n").into_bytes()),
            exit: 1,
        },
        Case {
            name: "generate_bad_namespace_flag",
            setup: Box::new(|_| {}),
            mode: Mode::GenerateArgs(&["-n", "Not_A_Label"]),
            exit: 2,
        },
    ]
}

/// Runs one case; returns the text to snapshot.
fn run_case(case: &Case) -> String {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/planted", s("k: @S@\n"));
    sb.file("vault/access_control/alice", "planted\n");
    (case.setup)(&sb);
    let out = match &case.mode {
        Mode::Generate => run(sb.path(), &["generate", "--vault-dir", "vault"], None, &[]),
        Mode::GenerateArgs(extra) => {
            let mut args = vec!["generate", "--vault-dir", "vault"];
            args.extend_from_slice(extra);
            run(sb.path(), &args, None, &[])
        }
        Mode::Krm(stdin) => run(sb.path(), &[], Some(stdin), &[]),
        Mode::Plugin(config) => {
            sb.file("plugin-config.yaml", config);
            run(sb.path(), &["plugin-config.yaml"], None, &[])
        }
        Mode::Cmd { args, env, stdin } => {
            let root = sb.path().display().to_string();
            let fill = |text: &str| text.replace("@SANDBOX@", &root);
            let args: Vec<String> = args.iter().map(|a| fill(a)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, String)> = env.iter().map(|(k, v)| (*k, fill(v))).collect();
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let stdin = stdin
                .as_ref()
                .map(|bytes| fill(&String::from_utf8_lossy(bytes)).into_bytes());
            run(sb.path(), &args, stdin.as_deref(), &env)
        }
        Mode::Everywhere => return run_everywhere(case, &sb),
    };
    out.assert_no_sentinel();
    assert_eq!(
        out.code, case.exit,
        "{}: exit code\nstderr:\n{}",
        case.name, out.stderr
    );
    if case.exit == 1 {
        for kind in ["kind: Role\n", "kind: ServiceAccount\n"] {
            assert!(
                !out.stdout.contains(kind),
                "{}: half-rendered:\n{}",
                case.name,
                out.stdout
            );
        }
    }
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        out.code,
        sb.redact(&out.stderr),
        sb.redact(&out.stdout)
    )
}

/// [`Mode::Everywhere`]: generate, the KRM function and `check` (text and JSON) agree on the exit
/// code and none shows the sentinel, nor do `can-read` and `who-can-read`. The snapshot holds generate's stderr, the KRM results and
/// `check`'s text output.
fn run_everywhere(case: &Case, sb: &Sandbox) -> String {
    let runs = [
        (
            "generate",
            run(sb.path(), &["generate", "--vault-dir", "vault"], None, &[]),
        ),
        ("krm", common::krm(sb)),
        (
            "check",
            run(sb.path(), &["check", "--vault-dir", "vault"], None, &[]),
        ),
        (
            "check --format json",
            run(
                sb.path(),
                &["check", "--vault-dir", "vault", "--format", "json"],
                None,
                &[],
            ),
        ),
    ];
    let mut text = String::new();
    for (mode, out) in &runs {
        out.assert_no_sentinel();
        let want = if mode.starts_with("check") {
            case.exit.min(1)
        } else {
            case.exit
        };
        assert_eq!(
            out.code, want,
            "{} ({mode}): exit code\nstderr:\n{}",
            case.name, out.stderr
        );
        let shown = match *mode {
            // The JSON says what the text says; generated objects are the same as in every other
            // case: show only what is about the input.
            "check --format json" => continue,
            "generate" => String::new(),
            "krm" => out
                .stdout
                .split_once("results:")
                .map(|(_, r)| format!("results:{r}"))
                .unwrap_or_default(),
            _ => out.stdout.clone(),
        };
        text.push_str(&format!(
            "=== {mode}\nexit: {}\n--- stderr\n{}--- stdout\n{}",
            out.code,
            sb.redact(&out.stderr),
            sb.redact(&shown)
        ));
    }
    if case.exit == 1 {
        assert!(
            !runs[0].1.stdout.contains("kind: "),
            "{}: half-rendered",
            case.name
        );
    }
    // The query commands read the same files: whatever they answer, never the sentinel.
    for args in [
        &["can-read", "alice", "--vault-dir", "vault"][..],
        &["who-can-read", "t", "--vault-dir", "vault"],
    ] {
        run(sb.path(), args, None, &[]).assert_no_sentinel();
    }
    text
}

#[test]
fn catalogue() {
    let mut cases = cases();
    cases.extend(harden::cases());
    cases.extend(spec_errors::cases());
    cases.extend(yaml_cases());
    assert!(cases.len() >= 40, "the catalogue has {} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    // Every case runs, whatever the others do: the failures are reported together at the end
    // (each also prints its own panic message and snapshot diff above).
    let mut failed = Vec::new();
    for case in &cases {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let text = run_case(case);
            insta::assert_snapshot!(case.name, text);
        }));
        if outcome.is_err() {
            failed.push(case.name);
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} catalogue cases failed: {}",
        failed.len(),
        cases.len(),
        failed.join(", ")
    );
}
