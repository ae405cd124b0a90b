//! Every error of SPEC §1–§4 (vault directory, secret files, access control, name clashes) in
//! every mode: `generate`, the KRM function and `check` (text and JSON) exit 1, render nothing,
//! and show no sentinel; the snapshot holds each one's message, naming file, line and key.
//! (These were substring checks in tests/errors.rs; the snapshots show the whole message.)

use super::{Case, s, yaml_case};
use crate::common::SENTINEL;

/// The SPEC's error cases.
pub fn cases() -> Vec<Case> {
    vec![
        // §1 vault directory
        yaml_case("spec_missing_vault_dir", 1, |sb| {
            std::fs::remove_dir_all(sb.vault_dir()).unwrap();
        }),
        yaml_case("spec_missing_kvstore", 1, |sb| {
            std::fs::remove_dir_all(sb.vault_dir().join("kvstore")).unwrap();
        }),
        yaml_case("spec_file_symlink_out_of_the_vault", 1, |sb| {
            sb.file("outside/key", s("k: @S@\n"));
            sb.symlink(sb.path().join("outside/key"), "vault/kvstore/stolen");
        }),
        yaml_case("spec_directory_symlink_out_of_the_vault", 1, |sb| {
            sb.file("outside/etc/passwd", s("k: @S@\n"));
            sb.symlink(sb.path().join("outside/etc"), "vault/kvstore/etc");
        }),
        yaml_case("spec_dangling_symlink", 1, |sb| {
            sb.symlink("nowhere", "vault/kvstore/dangling");
        }),
        yaml_case("spec_symlink_loop", 1, |sb| {
            sb.symlink("loop", "vault/kvstore/loop");
        }),
        yaml_case("spec_fifo", 1, |sb| {
            let path = sb.vault_dir().join("kvstore/fifo");
            let ok = std::process::Command::new("mkfifo")
                .arg(&path)
                .status()
                .unwrap()
                .success();
            assert!(ok, "mkfifo");
        }),
        yaml_case("spec_file_over_1_mib", 1, |sb| {
            sb.file(
                "vault/kvstore/big",
                format!("k: {}{SENTINEL}\n", "x".repeat(1 << 20)),
            );
        }),
        yaml_case("spec_two_files_one_identity", 1, |sb| {
            sb.file("vault/kvstore/db", s("k: @S@\n"));
            sb.file("vault/kvstore/db.yaml", s("k: @S@\n"));
        }),
        yaml_case("spec_two_identities_one_name", 1, |sb| {
            sb.file("vault/kvstore/App/DB", s("k: @S@\n"));
            sb.file("vault/kvstore/app_db", s("k: @S@\n"));
        }),
        yaml_case("spec_name_not_dns_1123", 1, |sb| {
            sb.file("vault/kvstore/_hidden-ish", s("k: @S@\n"));
        }),
        yaml_case("spec_name_too_long", 1, |sb| {
            sb.file(
                &format!("vault/kvstore/{}", "a".repeat(200) + "/" + &"b".repeat(60)),
                s("k: @S@\n"),
            );
        }),
        // §2 secret files
        yaml_case("spec_not_a_mapping", 1, |sb| {
            sb.file("vault/kvstore/list", s("- @S@\n"));
        }),
        yaml_case("spec_nested_mapping", 1, |sb| {
            sb.file("vault/kvstore/n", s("a: 1\nb:\n  c: @S@\n"));
        }),
        yaml_case("spec_sequence_value", 1, |sb| {
            sb.file("vault/kvstore/n", s("a: [@S@]\n"));
        }),
        yaml_case("spec_duplicate_key", 1, |sb| {
            sb.file("vault/kvstore/d", s("a: @S@\nb: 2\na: @S@\n"));
        }),
        yaml_case("spec_two_documents", 1, |sb| {
            sb.file("vault/kvstore/d", s("a: @S@\n---\nb: @S@\n"));
        }),
        yaml_case("spec_bad_key_characters", 1, |sb| {
            sb.file("vault/kvstore/k", s("good: 1\nbad/key: @S@\n"));
        }),
        yaml_case("spec_key_dot_dot_x", 1, |sb| {
            sb.file("vault/kvstore/k", s("..x: @S@\n"));
        }),
        yaml_case("spec_key_dot", 1, |sb| {
            sb.file("vault/kvstore/k", s("'.': @S@\n"));
        }),
        yaml_case("spec_key_over_253", 1, |sb| {
            sb.file(
                "vault/kvstore/k",
                format!("{}: {SENTINEL}\n", "k".repeat(254)),
            );
        }),
        yaml_case("spec_values_over_1_mib_via_aliases", 1, |sb| {
            let mut text = format!("a: &a {}{SENTINEL}\n", "x".repeat(4000));
            for i in 0..300 {
                text.push_str(&format!("k{i}: *a\n"));
            }
            sb.file("vault/kvstore/alias", text);
        }),
        yaml_case("spec_invalid_utf_8", 1, |sb| {
            sb.file(
                "vault/kvstore/u",
                [s("ok: @S@\nbad: ").as_bytes(), b"caf\xe9\n"].concat(),
            );
        }),
        yaml_case("spec_custom_tag", 1, |sb| {
            sb.file("vault/kvstore/t", s("a: !vault @S@\n"));
        }),
        yaml_case("spec_invalid_binary", 1, |sb| {
            sb.file("vault/kvstore/b", s("a: !!binary '@S@%%'\n"));
        }),
        yaml_case("spec_merge_key", 1, |sb| {
            sb.file("vault/kvstore/m", s("<<: {a: @S@}\n"));
        }),
        yaml_case("spec_invalid_yaml", 1, |sb| {
            sb.file("vault/kvstore/y", s("a: \"@S@\nb: [\n"));
        }),
        // §3 access control
        yaml_case("spec_unbalanced_open_bracket", 1, |sb| {
            sb.file("vault/access_control/alice", "ok/**\napp/[ab\n");
        }),
        yaml_case("spec_unbalanced_close_bracket", 1, |sb| {
            sb.file("vault/access_control/alice", "app/ab]\n");
        }),
        yaml_case("spec_unbalanced_open_brace", 1, |sb| {
            sb.file("vault/access_control/alice", "# c\n\napp/{a,b\n");
        }),
        yaml_case("spec_unbalanced_close_brace", 1, |sb| {
            sb.file("vault/access_control/alice", "app/a}\n");
        }),
        yaml_case("spec_bare_bang", 1, |sb| {
            sb.file("vault/access_control/alice", "**\n!\n");
        }),
        yaml_case("spec_double_bang_prefix", 1, |sb| {
            sb.file("vault/access_control/alice", "!!app\n");
        }),
        yaml_case("spec_user_name_not_a_label", 1, |sb| {
            sb.file("vault/access_control/Alice.txt", "**\n");
        }),
        yaml_case("spec_user_name_too_long", 1, |sb| {
            sb.file(&format!("vault/access_control/{}", "u".repeat(64)), "**\n");
        }),
        yaml_case("spec_two_files_one_user", 1, |sb| {
            sb.file("vault/access_control/bob", "**\n");
            sb.file("vault/access_control/ops/bob", "**\n");
        }),
        yaml_case("spec_access_file_not_utf_8", 1, |sb| {
            sb.file("vault/access_control/alice", b"app/\xff\n");
        }),
        // §4 clash between a kvstore Secret and a token Secret
        yaml_case("spec_token_name_clash", 1, |sb| {
            sb.file("vault/kvstore/alice-token", s("k: @S@\n"));
            sb.file("vault/access_control/alice", "**\n");
        }),
    ]
}
