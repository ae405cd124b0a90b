//! Secret identities and Kubernetes names, compatible with kubevault 1.x for ASCII paths.

/// The identity of a kvstore file: its `/`-separated path under `kvstore/` with one trailing
/// `.yaml` or `.yml` removed.
///
/// ```
/// assert_eq!(kubevault::vault::names::identity("production/payments/db.yaml"), "production/payments/db");
/// assert_eq!(kubevault::vault::names::identity("shared/tls"), "shared/tls");
/// ```
pub fn identity(relative_path: &str) -> String {
    let stem = relative_path
        .strip_suffix(".yaml")
        .or_else(|| relative_path.strip_suffix(".yml"))
        .unwrap_or(relative_path);
    stem.to_string()
}

/// The Secret name of an identity: ASCII letters lowercased, every other character outside
/// `[a-z0-9-]` replaced by `-` (each non-ASCII character counts once). Not yet validated.
///
/// ```
/// assert_eq!(kubevault::vault::names::secret_name("Prod/DB_main.v2"), "prod-db-main-v2");
/// ```
pub fn secret_name(identity: &str) -> String {
    identity
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect()
}

/// True for a DNS-1123 label: at most 63 of `[a-z0-9-]`, starting and ending alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && is_label_chars(s)
}

/// True for a DNS-1123 subdomain: at most 253 characters, dot-separated labels.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label_chars)
}

fn is_label_chars(s: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = s.as_bytes();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter().all(|&c| alnum(c) || c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities() {
        let table = [
            ("production/payments/db.yaml", "production/payments/db"),
            ("shared/tls", "shared/tls"),
            ("a.yml", "a"),
            ("a.yaml.yaml", "a.yaml"),
            ("a.YAML", "a.YAML"),
            ("dir.yaml/x", "dir.yaml/x"),
            (".yaml", ""),
        ];
        for (path, want) in table {
            assert_eq!(identity(path), want, "{path}");
        }
    }

    #[test]
    fn names() {
        let table = [
            ("production/payments/db", "production-payments-db", true),
            ("Shared/TLS", "shared-tls", true),
            ("a.yaml", "a-yaml", true),
            ("app_db", "app-db", true),
            ("café/x", "caf--x", true),
            ("日本", "--", false),
            ("_lead", "-lead", false),
            ("trail/", "trail-", false),
            ("ok-123", "ok-123", true),
            ("with space", "with-space", true),
            ("emoji😀x", "emoji-x", true),
        ];
        for (identity, want, valid) in table {
            let name = secret_name(identity);
            assert_eq!(name, want, "{identity}");
            assert_eq!(is_dns1123_subdomain(&name), valid, "{identity}");
        }
    }

    #[test]
    fn lengths() {
        assert!(is_dns1123_subdomain(&"a".repeat(253)));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
        assert!(is_dns1123_label(&"a".repeat(63)));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(!is_dns1123_label("Alice"));
        assert!(!is_dns1123_label("a.b"));
        assert!(is_dns1123_subdomain("a.b"));
        assert!(!is_dns1123_label(""));
    }

    #[test]
    fn collisions_come_from_lowercasing_and_replacement() {
        let same = ["App/DB", "app/db", "app_db", "app.db", "app-db"];
        for id in same {
            assert_eq!(secret_name(id), "app-db", "{id}");
        }
    }
}
