//! The command line as a user meets it: every subcommand's `--help` (snapshots, one per
//! subcommand, found by iterating clap's own list — a new subcommand gets a snapshot to accept
//! with `cargo insta review`, and must have an example), completion scripts for four shells, the
//! man page, typos answered with "did you mean" (never read as a plugin config path), `--quiet`,
//! `--color`/`NO_COLOR`, `--format json`, `users`, and `--version` matching the README.

mod common;

use std::process::Command;

use clap::CommandFactory;
use common::{QUICKSTART, Sandbox, repo, run};
use kubevault::cli::Cli;

fn kv(args: &[&str]) -> common::Output {
    run(repo(), args, None, &[])
}

/// `--help` of the top level and of every subcommand, as clap lists them (so subcommands added
/// later are covered without editing this test).
#[test]
fn every_subcommand_has_help_with_an_example() {
    let top = kv(&["--help"]);
    assert_eq!(top.code, 0);
    insta::assert_snapshot!("help", top.stdout);
    let command = Cli::command();
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(names.len() >= 12, "{names:?}");
    for name in &names {
        let out = kv(&[name, "--help"]);
        assert_eq!(out.code, 0, "{name} --help: {}", out.stderr);
        if name != "help" {
            assert!(
                out.stdout.contains("\nExamples:\n  "),
                "`kubevault {name} --help` has no example"
            );
        }
        insta::assert_snapshot!(format!("help_{name}"), out.stdout);
        // `help NAME` is the same text.
        assert_eq!(kv(&["help", name]).stdout, out.stdout, "help {name}");
    }
    assert_eq!(kv(&["help", "--help"]).code, 0);
}

/// One value name per meaning across subcommands: `--vault-dir <DIR>`, `-n <NAMESPACE>`, ...
#[test]
fn value_names_are_consistent() {
    let mut command = Cli::command();
    command.build();
    let mut seen: std::collections::BTreeMap<String, (String, String)> = Default::default();
    for sub in command.get_subcommands() {
        for arg in sub.get_arguments() {
            let (Some(long), Some(names)) = (arg.get_long(), arg.get_value_names()) else {
                continue;
            };
            // Flags that mean the same thing everywhere (`--key` is a key in `show` and a
            // NAME[=REMOTE_KEY] mapping in `external-secret`: two meanings, two names).
            if ![
                "vault-dir",
                "namespace",
                "age-key-file",
                "format",
                "output-dir",
                "store",
            ]
            .contains(&long)
            {
                continue;
            }
            let value = names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((first_sub, first_value)) = seen.get(long) {
                assert_eq!(
                    &value,
                    first_value,
                    "--{long} is <{value}> in {} but <{first_value}> in {first_sub}",
                    sub.get_name()
                );
            } else {
                seen.insert(long.to_string(), (sub.get_name().to_string(), value));
            }
        }
    }
    assert_eq!(seen["vault-dir"].1, "DIR");
    assert_eq!(seen["namespace"].1, "NAMESPACE");
}

#[test]
fn typos_get_did_you_mean_not_a_plugin_config_error() {
    let table: &[(&[&str], &str)] = &[
        (&["genrate"], "'generate'"),
        (&["chek", "--vault-dir", "v"], "'check'"),
        (&["who-can-reed", "x"], "'who-can-read'"),
        (
            &["generate", "--vault-dri", "v"],
            "a similar argument exists: '--vault-dir'",
        ),
    ];
    for (args, want) in table {
        let out = kv(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("tip: "), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{args:?}: {}", out.stderr);
        assert!(
            !out.stderr.contains("plugin config"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("-- --"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn the_legacy_plugin_form_takes_only_an_existing_file() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    sb.file("vault/access_control/alice", "app\n");
    sb.file(
        "plugin-config",
        "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: t\nspec:\n  vaultDir: vault\n",
    );
    let out = run(sb.path(), &["plugin-config"], None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("kind: Secret"));
    // A directory or a missing path is a command-line error with clap's message.
    for arg in ["vault", "missing-config"] {
        let out = run(sb.path(), &[arg], None, &[]);
        assert_eq!(out.code, 2, "{arg}: {}", out.stderr);
        assert!(
            out.stderr.contains("unrecognized subcommand"),
            "{arg}: {}",
            out.stderr
        );
    }
    // A file named like a subcommand is still the subcommand.
    sb.file("check", "not a config\n");
    let out = run(sb.path(), &["check"], None, &[]);
    assert!(
        out.stdout.contains("check passed"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn completion_scripts_for_four_shells() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = kv(&["completion", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["generate", "who-can-read", "completion", "vault-dir"] {
            assert!(out.stdout.contains(word), "{shell} script lacks {word}");
        }
    }
    // The scripts are valid for the shells that are installed.
    let sb = Sandbox::new();
    for (shell, check) in [
        ("bash", &["-n"][..]),
        ("zsh", &["-n"][..]),
        ("fish", &["--no-execute"][..]),
    ] {
        let installed = Command::new(shell).arg("-c").arg("true").output().is_ok();
        if !installed {
            // Not a skip of the test (the script was generated); a note, shown uncaptured.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "note: {shell} is not installed; its completion script was generated but not parsed"
            );
            continue;
        }
        let script = sb.path().join(format!("kubevault.{shell}"));
        std::fs::write(&script, kv(&["completion", shell]).stdout).unwrap();
        let out = Command::new(shell)
            .args(check)
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = kv(&["completion", "tcsh"]);
    assert_eq!(out.code, 2);
}

#[test]
fn man_pages() {
    let out = kv(&["man"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with(".ie") || out.stdout.contains(".TH kubevault 1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("generate"));
    let out = kv(&["man", "generate"]);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains(".TH kubevault-generate 1"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("vault\\-dir"), "{}", out.stdout);
    let out = kv(&["man", "nope"]);
    assert_eq!(out.code, 2);
}

/// The README names the release; `--version` says the same.
#[test]
fn version_matches_the_readme() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let marker = "`kubevault --version` prints `";
    let at = readme
        .find(marker)
        .expect("README says what --version prints")
        + marker.len();
    let named = &readme[at..at + readme[at..].find('`').unwrap()];
    let out = kv(&["--version"]);
    assert_eq!(out.stdout.trim_end(), named);
    assert_eq!(named, format!("kubevault {}", env!("CARGO_PKG_VERSION")));
}

fn warning_vault() -> Sandbox {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/prod/db.yaml", "password: x\n");
    sb.file("vault/access_control/alice", "prod/**\n!prod/dv/**\n");
    sb
}

#[test]
fn quiet_prints_errors_only() {
    let sb = warning_vault();
    let loud = run(sb.path(), &["generate"], None, &[]);
    assert!(loud.stderr.contains("warning:"), "{}", loud.stderr);
    let quiet = run(sb.path(), &["generate", "--quiet"], None, &[]);
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, loud.stdout);
    let quiet = run(sb.path(), &["-q", "generate", "--strict"], None, &[]);
    assert_eq!(quiet.code, 1);
    assert!(quiet.stderr.contains("error: "), "{}", quiet.stderr);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let sb = warning_vault();
    // Not a terminal: no colour, in every command.
    let env: &[(&str, &str)] = &[];
    for args in [
        &["can-read", "alice"][..],
        &["who-can-read", "prod/db"][..],
        &["users"][..],
        &["check"][..],
        &["generate"][..],
    ] {
        let out = run(sb.path(), args, None, env);
        assert!(
            !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
            "{args:?}"
        );
        let forced = run(
            sb.path(),
            &[args, &["--color", "always"]].concat(),
            None,
            env,
        );
        assert!(
            forced.stdout.contains('\x1b') || forced.stderr.contains('\x1b'),
            "{args:?} --color always: {}{}",
            forced.stdout,
            forced.stderr
        );
        let never = run(
            sb.path(),
            &[args, &["--color", "never"]].concat(),
            None,
            env,
        );
        assert!(!never.stdout.contains('\x1b') && !never.stderr.contains('\x1b'));
    }
}

#[test]
fn json_formats_of_the_query_commands() {
    for args in [
        &[
            "can-read",
            "alice",
            "--vault-dir",
            QUICKSTART,
            "--format",
            "json",
        ][..],
        &[
            "who-can-read",
            "shared/tls",
            "--vault-dir",
            QUICKSTART,
            "--format",
            "json",
        ][..],
        &["users", "--vault-dir", QUICKSTART, "--format", "json"][..],
        &["check", "--vault-dir", QUICKSTART, "--format", "json"][..],
    ] {
        let out = kv(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
        insta::assert_snapshot!(
            format!("json_{}", args[0]),
            serde_json::to_string_pretty(&doc).unwrap()
        );
    }
}

#[test]
fn users_lists_every_user_with_counts() {
    let out = kv(&["users", "--vault-dir", QUICKSTART]);
    assert_eq!(out.code, 0);
    insta::assert_snapshot!(out.stdout, @"
    USER   READS  RULES  FILE
    alice    2/5      3  access_control/alice
    bob      4/5      3  access_control/ops/bob
    carol    1/5      1  access_control/carol
    3 users, 5 secrets
    ");
}
