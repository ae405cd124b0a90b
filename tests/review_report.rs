//! `kubevault report --html FILE` in a real browser: headless Chromium loads the page from disk
//! (no network, no external asset), the test reads the rendered DOM (cells, counts, a filter
//! applied from the URL) and saves a screenshot; a 10,000 × 200 vault stays small and renders
//! only the rows in view.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Run, kubevault};

const SENTINEL: &str = "SENTINEL-report-value-3c1f";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Headless Chromium, or a loud skip (a failure under CI=true).
fn chromium(test: &str) -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(!in_ci(), "{test}: chromium is not installed, and CI=true");
        eprintln!(
            "\n!!!!!!!! SKIPPED {test}: chromium is not installed (fails under CI=true) !!!!!!!!\n"
        );
    }
    found
}

fn browser(chromium: &Path, profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn report(cwd: &Path, out: &str) -> Run {
    let run = kubevault(
        cwd,
        &["report", "--html", out, "--vault-dir", "vault"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.all_output().contains(SENTINEL));
    run
}

/// How many times `needle` occurs.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The value of `attr` on the element with `id`.
fn attr(dom: &str, id: &str, attr: &str) -> String {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("#{id} missing"));
    let start = dom[..at].rfind('<').unwrap();
    let end = at + dom[at..].find('>').unwrap();
    let tag = &dom[start..end];
    let key = format!("{attr}=\"");
    let v = tag
        .find(&key)
        .unwrap_or_else(|| panic!("{attr} missing in {tag}"))
        + key.len();
    tag[v..v + tag[v..].find('"').unwrap()].to_string()
}

#[test]
fn report_page_renders_the_matrix_in_a_real_browser() {
    let Some(chromium) = chromium("report_page_renders_the_matrix_in_a_real_browser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for rel in [
        "production/payments/db.yaml",
        "production/payments/stripe",
        "production/search/es.yaml",
        "shared/tls.yaml",
        "staging/app/config",
        "top-level",
    ] {
        write(
            p,
            &format!("vault/kvstore/{rel}"),
            &format!("password: {SENTINEL}\n"),
        );
    }
    write(
        p,
        "vault/access_control/alice",
        "production/**\n!production/payments/stripe\nshared/tls\n",
    );
    write(
        p,
        "vault/access_control/ops/bob",
        "**\n!production/**\nproduction/payments/db\n",
    );
    write(p, "vault/access_control/carol", "staging/**\n");
    let run = report(p, "out/report.html");
    assert!(run.stderr.contains("6 secrets × 3 users"), "{}", run.stderr);
    let page = std::fs::read_to_string(p.join("out/report.html")).unwrap();
    assert!(!page.contains(SENTINEL));
    // Self-contained: no external script, style, font or image, and a policy that forbids them.
    for banned in [
        "<link",
        "src=\"http",
        "src=\"//",
        "@import",
        "url(",
        "https://",
        "http://",
    ] {
        assert!(!page.contains(banned), "{banned}");
    }
    assert!(page.contains("default-src 'none'"));
    let url = format!("file://{}", p.join("out/report.html").display());
    let profile = tempfile::tempdir().unwrap();

    // Everything: 6 secrets × 3 users; alice 3, bob 4, carol 1 = 8 grants.
    let dom = browser(&chromium, profile.path(), &["--dump-dom"], &url);
    assert_eq!(attr(&dom, "status", "data-secrets"), "6");
    assert_eq!(attr(&dom, "status", "data-users"), "3");
    assert_eq!(attr(&dom, "status", "data-grants"), "8");
    assert_eq!(count(&dom, "class=\"row secret\""), 6);
    assert_eq!(count(&dom, "class=\"row folder\""), 5, "grouped by folder");
    assert_eq!(count(&dom, "class=\"c y\" data-user"), 8);
    assert_eq!(
        count(&dom, "class=\"c x\" data-user"),
        3,
        "alice's and bob's denials"
    );

    // The deciding rule on hover.
    assert!(
        dom.contains("title=\"bob → production/payments/stripe: denied by access_control/ops/bob:2 !production/**\""),
        "{dom}"
    );
    assert!(dom.contains("title=\"carol → shared/tls: denied, no rule matches (default deny)\""));
    assert!(dom.contains(
        "alice → production/payments/db: may read by access_control/alice:1 production/**"
    ));
    // Per-user counts in the header.
    assert!(
        dom.contains(
            "data-user=\"alice\" title=\"alice (access_control/alice): may read 3 of 6 secrets\""
        ),
        "{dom}"
    );

    // A filter from the URL: alice only, secrets under production/.
    let dom = browser(
        &chromium,
        profile.path(),
        &["--dump-dom"],
        &format!("{url}#user=alice&secret=production/"),
    );
    assert_eq!(attr(&dom, "status", "data-secrets"), "3");
    assert_eq!(attr(&dom, "status", "data-users"), "1");
    assert_eq!(attr(&dom, "status", "data-grants"), "2");
    assert_eq!(count(&dom, "class=\"row secret\""), 3);
    assert_eq!(count(&dom, "class=\"c y\" data-user"), 2);
    assert_eq!(count(&dom, "data-user=\"bob\""), 0);
    assert!(
        dom.contains("value=\"alice\"")
            || dom.contains("showing 3 of 6 secrets × 1 of 3 users; 2 grants")
    );
    assert!(
        dom.contains("showing 3 of 6 secrets × 1 of 3 users; 2 grants"),
        "{dom}"
    );

    // A screenshot for the docs (into docs/ with KUBEVAULT_UPDATE_DOCS=1).
    let shot = if std::env::var_os("KUBEVAULT_UPDATE_DOCS").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.png")
    } else {
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("report.png")
    };
    let _ = std::fs::remove_file(&shot);
    browser(
        &chromium,
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--hide-scrollbars",
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 10_000, "an empty screenshot?");
}

#[test]
fn report_at_10000_secrets_by_200_users_stays_small_and_virtual() {
    let Some(chromium) = chromium("report_at_10000_secrets_by_200_users_stays_small_and_virtual")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for i in 0..10_000 {
        write(
            p,
            &format!("vault/kvstore/team{:02}/app{:03}/s{i:05}", i % 50, i % 997),
            "k: v\n",
        );
    }
    for u in 0..200 {
        write(
            p,
            &format!("vault/access_control/user{u:03}"),
            &format!(
                "team{:02}/**\n!team{:02}/app{:03}/*\n**/s{:05}\n",
                u % 50,
                u % 50,
                u % 997,
                u * 37
            ),
        );
    }
    report(p, "report.html");
    let page = p.join("report.html");
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 10 << 20, "page is {size} bytes");
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let dom = browser(&chromium, profile.path(), &["--dump-dom"], &url);
    assert_eq!(attr(&dom, "status", "data-secrets"), "10000");
    assert_eq!(attr(&dom, "status", "data-users"), "200");
    let rows = count(&dom, "class=\"row secret\"");
    assert!(
        (10..200).contains(&rows),
        "{rows} rows in the DOM: not virtualised?"
    );
    let dom = browser(
        &chromium,
        profile.path(),
        &["--dump-dom"],
        &format!("{url}#user=user007&secret=team07/"),
    );
    assert_eq!(attr(&dom, "status", "data-users"), "1");
    assert_eq!(attr(&dom, "status", "data-secrets"), "200");
}
