//! `generate --output-dir` in a directory it cannot trust (SPEC §9): files are 0600, written
//! all-or-nothing, never through a symlink; a committed manifest removes nothing but files
//! kubevault wrote. The catalogue (`tests/bad_input/harden.rs`) has the messages.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{SENTINEL, Sandbox, run};

const OUT: &[&str] = &["generate", "--vault-dir", "vault", "--output-dir", "out"];

fn vault() -> Sandbox {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", format!("k: {SENTINEL}\n"))
        .file("vault/kvstore/db", "k: v\n")
        .file("vault/access_control/alice", "**\n");
    sb
}

fn names(sb: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(sb.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn files_are_0600_in_a_0700_directory() {
    let sb = vault();
    let out = run(sb.path(), OUT, None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = |p: &str| {
        std::fs::metadata(sb.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("out"), 0o700);
    for name in names(&sb) {
        assert_eq!(mode(&format!("out/{name}")), 0o600, "{name}");
    }
    // A second run replaces its own files (no temp files left behind).
    let out = run(sb.path(), OUT, None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(names(&sb).iter().all(|n| !n.contains("kubevault-tmp")));
}

#[test]
fn a_planted_symlink_is_never_written_through_and_nothing_is_written() {
    let sb = vault();
    sb.file("outside/target", "victim\n");
    sb.symlink("../outside/target", "out/secret_db.yaml");
    let out = run(sb.path(), OUT, None, &[]);
    out.assert_no_sentinel();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(sb.path().join("outside/target")).unwrap(),
        "victim\n"
    );
    // All or nothing: secret_app.yaml (before it in order) was not written either.
    assert_eq!(names(&sb), ["secret_db.yaml"]);
}

#[test]
fn a_committed_manifest_removes_only_files_kubevault_wrote() {
    let sb = vault();
    assert_eq!(run(sb.path(), OUT, None, &[]).code, 0);
    sb.file("out/README.md", "kept\n");
    sb.file("outside/x", "kept\n");
    sb.file("out/notes.yaml", "kept\n");
    sb.symlink("../outside/x", "out/link.yaml");
    sb.file(
        "out/.kubevault-generated",
        "README.md\nnotes.yaml\nlink.yaml\n../outside/x\n/etc/passwd\nsecret_db.yaml\n",
    );
    std::fs::remove_file(sb.vault_dir().join("kvstore/db")).unwrap();
    let out = run(sb.path(), OUT, None, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let names = names(&sb);
    for kept in ["README.md", "notes.yaml", "link.yaml", "secret_app.yaml"] {
        assert!(names.contains(&kept.to_string()), "{kept}: {names:?}");
    }
    // Ours and stale: removed.
    assert!(!names.contains(&"secret_db.yaml".to_string()), "{names:?}");
    assert_eq!(
        std::fs::read_to_string(sb.path().join("outside/x")).unwrap(),
        "kept\n"
    );
}
