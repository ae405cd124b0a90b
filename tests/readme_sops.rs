//! The README's SOPS steps, as written, against the real sops 3.11 and age-keygen: step 1's key
//! commands, step 2's `.sops.yaml` in the repository root (its placeholder recipients replaced by
//! the new key), then the sops CLI block line by line from the repository root. Every file ends up
//! encrypted and kubevault renders the same values as before encryption. Also the trap step 2
//! warns about: a `.sops.yaml` inside `vault/` with sops run from the repository root leaves the
//! file in clear text.
//!
//! `HOME` is a folder of the sandbox, so `~/.config/sops/age/keys.txt` is never the developer's.
//! Tests skip when sops or age-keygen is missing, except under `CI=true`, where they fail.

mod common;

use std::path::Path;

use common::{SENTINEL, Sandbox, repo, tools};

/// The first fenced block of `lang` after the line containing `marker`.
fn block_after(readme: &str, marker: &str, lang: &str) -> String {
    let rest = &readme[readme
        .find(marker)
        .unwrap_or_else(|| panic!("README has no {marker:?}"))..];
    let fence = format!("```{lang}\n");
    let start = rest.find(&fence).expect("a fenced block") + fence.len();
    let len = rest[start..].find("```\n").expect("a closed block");
    rest[start..start + len].to_string()
}

fn readme() -> String {
    std::fs::read_to_string(repo().join("README.md")).unwrap()
}

/// Runs one README line with `sh -c` in `cwd`, with the sandbox's home and no key variables.
fn sh(home: &Path, cwd: &Path, line: &str) -> std::process::Output {
    let mut cmd = tools::command("sh", cwd);
    cmd.args(["-c", line])
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME");
    tools::run(&mut cmd)
}

fn sh_ok(home: &Path, cwd: &Path, line: &str) -> String {
    let out = sh(home, cwd, line);
    assert!(
        out.status.success(),
        "README command failed: {line}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The command lines of a shell block (comment-only and blank lines left out).
fn commands(block: &str) -> Vec<&str> {
    block
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect()
}

fn have_tools(test: &str) -> bool {
    tools::sops(test) && tools::tool("age-keygen", test).is_some()
}

/// A repository with `vault/`: two production secrets (values quoted, as the README advises for
/// sops) and a user who reads them.
fn repository() -> Sandbox {
    let s = Sandbox::vault();
    s.file(
        "vault/kvstore/production/payments/db.yaml",
        format!("user: \"payments\"\npin: \"0123\"\npassword: \"{SENTINEL}\"\n"),
    );
    s.file(
        "vault/kvstore/production/payments/stripe",
        "api-key: \"sk_example\"\nwebhook-secret: \"whsec_example\"\n",
    );
    s.file("vault/access_control/alice", "production/**\n");
    std::fs::create_dir_all(s.path().join("home")).unwrap();
    s
}

/// The Secrets kubevault renders, as YAML text (the key comes from `~/.config/sops/age`).
fn rendered(s: &Sandbox) -> String {
    let home = s.path().join("home");
    sh_ok(&home, s.path(), "kubevault generate --vault-dir vault")
}

#[test]
fn the_readme_sops_steps_work_as_written() {
    if !have_tools("the_readme_sops_steps_work_as_written") {
        return;
    }
    let readme = readme();
    let s = repository();
    let home = s.path().join("home");
    let before = rendered(&s);

    // Step 1: the key, where sops and kubevault look by default.
    let step1 = block_after(&readme, "### 1. Create a key", "sh");
    for line in commands(&step1) {
        sh_ok(&home, s.path(), line);
    }
    let keys = std::fs::read_to_string(home.join(".config/sops/age/keys.txt")).unwrap();
    let recipient = keys
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key")
        .to_string();

    // Step 2: `.sops.yaml` in the repository root, placeholders replaced by the real recipient.
    let step2 = block_after(&readme, "### 2. Say which files are encrypted", "yaml");
    assert!(
        step2.starts_with("# .sops.yaml, in the repository root"),
        "{step2}"
    );
    let config = ["age1ops...", "age1ci...", "age1dev..."]
        .iter()
        .fold(step2, |text, placeholder| {
            text.replace(placeholder, &recipient)
        });
    s.file(".sops.yaml", config);

    // The sops CLI block, line by line, from the repository root.
    let cli = block_after(&readme, "<!-- readme-sops-cli", "sh");
    let lines = commands(&cli);
    assert!(lines.len() >= 4, "{cli}");
    for line in lines {
        let out = sh_ok(&home, s.path(), line);
        if !line.starts_with("sops decrypt") {
            assert!(!out.contains(SENTINEL), "{line} printed a value");
        }
    }

    let db = std::fs::read_to_string(s.path().join("vault/kvstore/production/payments/db.yaml"))
        .unwrap();
    assert!(
        db.contains("password: ENC[") && db.contains("\nsops:\n") && !db.contains(SENTINEL),
        "db.yaml is not encrypted:\n{db}"
    );
    let stripe =
        std::fs::read_to_string(s.path().join("vault/kvstore/production/payments/stripe")).unwrap();
    assert!(
        stripe.starts_with('{') && !stripe.contains("whsec_example"),
        "stripe is not in sops' binary format:\n{stripe}"
    );
    // kubevault reads both, with the values they had in clear text.
    assert_eq!(rendered(&s), before);
}

/// What step 2 warns about is real: sops looks for `.sops.yaml` from where it runs, so one inside
/// `vault/` is not found from the repository root and the file stays in clear text; inside the
/// vault directory (the quickstart's layout) the same rule works.
#[test]
fn a_sops_yaml_inside_the_vault_is_not_found_from_the_repository_root() {
    if !have_tools("a_sops_yaml_inside_the_vault_is_not_found_from_the_repository_root") {
        return;
    }
    let s = repository();
    let home = s.path().join("home");
    sh_ok(
        &home,
        s.path(),
        "mkdir -p ~/.config/sops/age && age-keygen -o ~/.config/sops/age/keys.txt",
    );
    let recipient = sh_ok(&home, s.path(), "age-keygen -y ~/.config/sops/age/keys.txt");
    s.file(
        "vault/.sops.yaml",
        format!(
            "creation_rules:\n  - path_regex: ^kvstore/\n    age: {}\n",
            recipient.trim()
        ),
    );
    let file = "vault/kvstore/production/payments/db.yaml";
    let out = sh(
        &home,
        s.path(),
        &format!("sops --disable-version-check encrypt -i {file}"),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no creation rules"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(s.path().join(file)).unwrap();
    assert!(text.contains(SENTINEL), "sops changed the file:\n{text}");
    sh_ok(
        &home,
        &s.vault_dir(),
        "sops --disable-version-check encrypt -i kvstore/production/payments/db.yaml",
    );
    let text = std::fs::read_to_string(s.path().join(file)).unwrap();
    assert!(
        text.contains("password: ENC[") && !text.contains(SENTINEL),
        "{text}"
    );
    // kubevault finds the same `.sops.yaml` at or above the file, from anywhere.
    let who = sh_ok(
        &home,
        s.path(),
        "kubevault who-can-decrypt --vault-dir vault",
    );
    assert!(who.contains(recipient.trim()), "{who}");
}
