//! `kubevault diff` through the real binary, on vaults whose encrypted files the real `sops` CLI
//! wrote: the change tables (secrets, keys in clear and encrypted files, rule edits, users,
//! metadata), `--fail-on-gain`, the Markdown snapshot, `git:REV` on a real repository, and no
//! value on any channel.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, kubevault};

/// Every value planted in the vaults.
const SENTINELS: &[&str] = &[
    "SENTINEL-db-1",
    "SENTINEL-db-2",
    "SENTINEL-cache",
    "SENTINEL-crt",
    "SENTINEL-key",
    "SENTINEL-api-1",
    "SENTINEL-api-2",
    "SENTINEL-gone",
    "SENTINEL-move-a",
    "SENTINEL-move-b",
    "SENTINEL-new",
];

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `name` on PATH, or a loud skip (a failure under CI=true).
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(!in_ci(), "{test}: `{name}` is not on PATH, and CI=true");
        eprintln!(
            "\n!!!!!!!! SKIPPED {test}: `{name}` is not on PATH (fails under CI=true) !!!!!!!!\n"
        );
    }
    found
}

struct Fixture {
    dir: tempfile::TempDir,
    key_file: PathBuf,
    recipient: String,
}

impl Fixture {
    fn new(test: &str) -> Option<Fixture> {
        tool("sops", test)?;
        tool("age-keygen", test)?;
        tool("git", test)?;
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("age-key.txt");
        let out = Command::new("age-keygen")
            .arg("-o")
            .arg(&key_file)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = std::fs::read_to_string(&key_file).unwrap();
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_string();
        Some(Fixture {
            dir,
            key_file,
            recipient,
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Writes `rel` as a file the real sops encrypted (fresh data key and IVs each time).
    fn encrypted(&self, rel: &str, plain: &str) {
        let scratch = self.path().join("plain.yaml");
        std::fs::write(&scratch, plain).unwrap();
        let out = Command::new("sops")
            .args([
                "--disable-version-check",
                "encrypt",
                "--age",
                &self.recipient,
            ])
            .arg(&scratch)
            .env_remove("SOPS_AGE_KEY_FILE")
            .output()
            .unwrap();
        std::fs::remove_file(&scratch).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.write(rel, &String::from_utf8(out.stdout).unwrap());
    }

    fn remove(&self, rel: &str) {
        std::fs::remove_file(self.path().join(rel)).unwrap();
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn commit(&self, message: &str) {
        self.git(&["add", "-A", "vault"]);
        self.git(&["commit", "-q", "-m", message]);
    }

    fn diff(&self, args: &[&str], with_key: bool) -> Run {
        let mut all = vec!["diff"];
        all.extend_from_slice(args);
        if with_key {
            let key = self.key_file.to_str().unwrap().to_string();
            let mut with = all.clone();
            with.extend(["--age-key-file", &key]);
            let run = kubevault(self.path(), &with, None);
            assert_clean(&run);
            return run;
        }
        // No key at all: not even the one `kubevault()` hands every run.
        let out = Command::new(env!("CARGO_BIN_EXE_kubevault"))
            .args(&all)
            .current_dir(self.path())
            .env_remove("KUBEVAULT_DIR")
            .env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("XDG_CONFIG_HOME", "/nonexistent/kubevault-tests")
            .output()
            .unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        };
        assert_clean(&run);
        run
    }
}

fn assert_clean(run: &Run) {
    let all = run.all_output();
    for s in SENTINELS {
        assert!(!all.contains(s), "{s} leaked:\n{all}");
    }
}

/// OLD (commit 1) and NEW (commit 2, also the work tree), then a third commit.
fn history(fx: &Fixture) {
    fx.git(&["init", "-q", "-b", "main"]);
    fx.write(
        "vault/kvstore/app/db.yaml",
        "user: app\npassword: SENTINEL-db-1\nport: 5432\n",
    );
    fx.write(
        "vault/kvstore/app/cache",
        "url: redis://cache\ntoken: SENTINEL-cache\n",
    );
    fx.encrypted(
        "vault/kvstore/shared/tls.yaml",
        "tls.crt: SENTINEL-crt\ntls.key: SENTINEL-key\n",
    );
    fx.encrypted(
        "vault/kvstore/prod/api.yaml",
        "apikey: SENTINEL-api-1\nregion: eu\n",
    );
    fx.write("vault/kvstore/old/gone", "x: SENTINEL-gone\n");
    fx.write(
        "vault/kvstore/legacy/moved.yaml",
        "a: SENTINEL-move-a\nb: SENTINEL-move-b\n",
    );
    fx.write("vault/kvstore/.gitkeep", "");
    fx.write("vault/access_control/alice", "app/**\n");
    fx.write("vault/access_control/bob", "**\n!prod/**\n");
    fx.write("vault/access_control/carol", "shared/**\n");
    fx.write("vault/access_control/erin", "# erin\nshared/tls\n");
    fx.commit("one");

    // Changed plaintext keys; one encrypted file re-encrypted from the same plaintext (new IVs),
    // one with a changed value; a removal, a move, an addition; a granting and a revoking rule
    // edit; a user removed, one added, one whose rules changed without an access change.
    fx.write(
        "vault/kvstore/app/db.yaml",
        "host: db\npassword: SENTINEL-db-2\nport: 5432\n",
    );
    fx.encrypted(
        "vault/kvstore/shared/tls.yaml",
        "tls.crt: SENTINEL-crt\ntls.key: SENTINEL-key\n",
    );
    fx.encrypted(
        "vault/kvstore/prod/api.yaml",
        "apikey: SENTINEL-api-2\nregion: eu\n",
    );
    fx.remove("vault/kvstore/old/gone");
    fx.remove("vault/kvstore/legacy/moved.yaml");
    fx.write(
        "vault/kvstore/moved/here.yaml",
        "a: SENTINEL-move-a\nb: SENTINEL-move-b\n",
    );
    fx.write("vault/kvstore/prod/new.yaml", "k: SENTINEL-new\n");
    fx.write("vault/access_control/alice", "app/**\nprod/new\n");
    fx.write("vault/access_control/bob", "**\n!prod/**\n!app/cache\n");
    fx.remove("vault/access_control/carol");
    fx.write("vault/access_control/dave", "shared/**\n");
    fx.write(
        "vault/access_control/erin",
        "# erin reads the TLS secret\nshared/tls\n!shared/nothing\n",
    );
    fx.write(
        "vault/metadata.yaml",
        "apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\nrules:\n  - secrets: \"app/**\"\n    labels: {team: platform}\n",
    );
    fx.commit("two");
}

fn json(run: &Run) -> serde_json::Value {
    assert!(
        matches!(run.code, 0 | 3),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    serde_json::from_str(&run.stdout).unwrap()
}

/// The changes as short lines, for table comparisons.
fn lines(v: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in v["secrets"].as_array().unwrap() {
        let keys: Vec<String> = s["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| match k["change"].as_str() {
                Some(c) => format!("{} {c}", k["key"].as_str().unwrap()),
                None => k["key"].as_str().unwrap().to_string(),
            })
            .collect();
        let from = s["from"]
            .as_str()
            .map(|f| format!("{f} -> "))
            .unwrap_or_default();
        let shape = match &s["shape"] {
            serde_json::Value::Null => String::new(),
            sh => format!(
                " [shape {} -> {}]",
                sh["old"].as_str().unwrap(),
                sh["new"].as_str().unwrap()
            ),
        };
        out.push(format!(
            "secret {} {from}{}: {}{shape}",
            s["change"].as_str().unwrap(),
            s["identity"].as_str().unwrap(),
            keys.join(", ")
        ));
    }
    for u in v["users"].as_array().unwrap() {
        let user = u["user"].as_str().unwrap();
        out.push(format!("user {user} {}", u["status"].as_str().unwrap()));
        for (sign, list) in [("+", &u["gained"]), ("-", &u["lost"])] {
            for g in list.as_array().unwrap() {
                let rule = match &g["rule"] {
                    serde_json::Value::Null => g["why"].as_str().unwrap().to_string(),
                    r => format!(
                        "{}:{} {}",
                        r["file"].as_str().unwrap(),
                        r["line"],
                        r["pattern"].as_str().unwrap()
                    ),
                };
                out.push(format!(
                    "  {sign} {user} {} by {rule}",
                    g["identity"].as_str().unwrap()
                ));
            }
        }
    }
    out.push(format!("metadata {}", v["summary"]["metadata"]));
    out
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const ACCESS: &[&str] = &[
    "user alice kept",
    "  + alice prod/new by access_control/alice:2 prod/new",
    "user bob kept",
    "  - bob app/cache by access_control/bob:3 !app/cache",
    "  - bob old/gone by secret removed",
    "user carol removed",
    "  - carol shared/tls by user removed",
    "user dave added",
    "  + dave shared/tls by access_control/dave:1 shared/**",
    "user erin kept",
    "metadata \"added\"",
];

#[test]
fn diff_tables_with_and_without_the_key() {
    let Some(fx) = Fixture::new("diff_tables_with_and_without_the_key") else {
        return;
    };
    history(&fx);
    let range = ["git:HEAD~1", "git:HEAD", "--format", "json"];
    // With the key, encrypted values are compared by plaintext: the re-encrypted TLS file is
    // unchanged, the API key changed and its region did not.
    let mut want = strings(&[
        "secret changed app/cache:  [shape Opaque -> Opaque; labels team=\"platform\"]",
        "secret changed app/db: host added, password changed, user removed [shape Opaque -> Opaque; labels team=\"platform\"]",
        "secret renamed legacy/moved -> moved/here: ",
        "secret removed old/gone: x",
        "secret changed prod/api: apikey changed",
        "secret added prod/new: k",
    ]);
    want.extend(strings(ACCESS));
    assert_eq!(lines(&json(&fx.diff(&range, true))), want);
    // Without any key: the ciphertext of every re-encrypted value changed.
    let mut want = strings(&[
        "secret changed app/cache:  [shape Opaque -> Opaque; labels team=\"platform\"]",
        "secret changed app/db: host added, password changed, user removed [shape Opaque -> Opaque; labels team=\"platform\"]",
        "secret renamed legacy/moved -> moved/here: ",
        "secret removed old/gone: x",
        "secret changed prod/api: apikey changed (encrypted), region changed (encrypted)",
        "secret added prod/new: k",
        "secret changed shared/tls: tls.crt changed (encrypted), tls.key changed (encrypted)",
    ]);
    want.extend(strings(ACCESS));
    let keyless = fx.diff(&range, false);
    assert_eq!(lines(&json(&keyless)), want);
    assert!(
        keyless.stderr.contains("compared by ciphertext"),
        "{}",
        keyless.stderr
    );
    // Text and Markdown carry the same facts.
    for format in ["text", "markdown"] {
        let run = fx.diff(&["git:HEAD~1", "git:HEAD", "--format", format], false);
        assert_eq!(run.code, 0, "{}", run.stderr);
        for needle in [
            "prod/new",
            "access_control/bob:3",
            "!app/cache",
            "changed (encrypted)",
            "moved/here",
        ] {
            assert!(
                run.stdout.contains(needle),
                "{format}: {needle}\n{}",
                run.stdout
            );
        }
    }
    // The same change seen as directories: the work tree against a checkout-free OLD.
    let dir = json(&fx.diff(&["git:HEAD~1", "vault", "--format", "json"], true));
    assert_eq!(dir["summary"], json(&fx.diff(&range, true))["summary"]);
    assert_eq!(dir["new"], "vault");
    assert_eq!(dir["old"], "git:HEAD~1:vault");
}

#[test]
fn markdown_for_a_pull_request_comment() {
    let Some(fx) = Fixture::new("markdown_for_a_pull_request_comment") else {
        return;
    };
    history(&fx);
    let run = fx.diff(&["git:HEAD~1", "git:HEAD", "--format", "markdown"], true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("diff_markdown", run.stdout);
}

#[test]
fn fail_on_gain_is_a_review_gate() {
    let Some(fx) = Fixture::new("fail_on_gain_is_a_review_gate") else {
        return;
    };
    history(&fx);
    // A third commit that only revokes.
    fx.write("vault/access_control/bob", "app/db\n");
    fx.commit("three: bob reads only the database");
    let gate = |old: &str, new: &str| fx.diff(&[old, new, "--fail-on-gain"], false);
    let gained = gate("git:HEAD~2", "git:HEAD~1");
    assert_eq!(gained.code, 3, "{}", gained.stderr);
    assert!(
        gained.stderr.contains("--fail-on-gain"),
        "{}",
        gained.stderr
    );
    let revoked = gate("git:HEAD~1", "git:HEAD");
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        revoked.stdout.contains("- moved/here"),
        "{}",
        revoked.stdout
    );
    // The work tree is commit three: nothing changed.
    let same = gate("git:HEAD", "vault");
    assert_eq!(same.code, 0, "{}", same.stderr);
    assert!(same.stdout.contains("no changes"), "{}", same.stdout);
    // Without the flag, gains are reported but do not fail.
    assert_eq!(fx.diff(&["git:HEAD~2", "git:HEAD~1"], false).code, 0);
}

#[test]
fn bad_sides_are_named() {
    let Some(fx) = Fixture::new("bad_sides_are_named") else {
        return;
    };
    history(&fx);
    let run = fx.diff(&["git:no-such-branch", "vault"], false);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("git:no-such-branch: no such revision"),
        "{}",
        run.stderr
    );
    let run = fx.diff(&["git:--output=/tmp/x", "vault"], false);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("not a revision"), "{}", run.stderr);
    fx.write("vault/access_control/Bad_User", "**\n");
    let run = fx.diff(&["git:HEAD", "vault"], false);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("NEW vault: access_control/Bad_User"),
        "{}",
        run.stderr
    );
}
