//! External Secrets Operator (ESO) wiring for a consumer cluster that reads the vault through a
//! vault user's token.
//!
//! `external-secret-store USER --server URL` reads the user's token Secret on stdin (YAML or
//! JSON, as `kubectl get secret USER-token -o yaml|json` prints it) and prints a credentials
//! Secret holding `token` and `ca.crt` plus an `external-secrets.io/v1` `SecretStore` (or
//! `ClusterSecretStore`) of the `kubernetes` provider that reads the vault namespace with it.
//! `external-secret IDENTITY` prints an `ExternalSecret` that pulls every key of one vault secret
//! into a Secret of the same name. Input problems never echo a value of the token Secret.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cli::{CreationPolicy, DeletionPolicy, ExternalSecretArgs, ExternalSecretStoreArgs};
use crate::config::DEFAULT_NAMESPACE;
use crate::exit::Exit;
use crate::object::Object;
use crate::report::Report;
use crate::vault::Secret as VaultSecret;
use crate::vault::names::{is_dns1123_label, is_dns1123_subdomain};
use crate::yaml::{Limits, Node, emit_stream, parse_stream};

use super::query::{failure, find_secret, load};

/// The ESO API version kubevault generates (`v1beta1` is no longer served).
pub const ESO_API_VERSION: &str = "external-secrets.io/v1";
/// Key of the token in the credentials Secret.
pub const TOKEN_KEY: &str = "token";
/// Key of the vault cluster's CA certificate in the credentials Secret.
pub const CA_KEY: &str = "ca.crt";

const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const SA_ANNOTATION: &str = "kubernetes.io/service-account.name";

fn usage(messages: Vec<String>) -> Report {
    Report {
        stdout: Vec::new(),
        messages,
        exit: Exit::Usage,
    }
}

/// Checks that `url` is `https://host[:port][/path]`.
pub fn check_server_url(url: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("error: --server {url:?}: {why}"));
    let Some(rest) = url
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| &url[8..])
    else {
        return bad("must be an https:// URL (the token must not travel in clear text)");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return bad("must not carry user information");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) => match port.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return bad("has a malformed host"),
            },
            None => return bad("has an unclosed `[`"),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
    if !host_ok {
        return bad("has no valid host");
    }
    if let Some(port) = port
        && !(port.parse::<u16>().is_ok_and(|p| p > 0) && port.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad("has an invalid port");
    }
    Ok(())
}

/// The `token` and `ca.crt` bytes and the vault namespace read from a token Secret.
struct Token {
    token: Vec<u8>,
    ca: Vec<u8>,
    namespace: Option<String>,
}

/// Reads a token Secret; `Err` lists every problem, never a value.
fn read_token_secret(text: &str, user: &str) -> Result<Token, Vec<String>> {
    let docs = parse_stream(text, &Limits::default())
        .map_err(|e| vec![format!("error: stdin: not YAML or JSON: {e}")])?;
    let docs: Vec<Node> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let [doc] = docs.as_slice() else {
        return Err(vec![format!(
            "error: stdin: expected one token Secret, found {} documents \
             (kubectl get secret {user}-token -n NAMESPACE -o yaml)",
            docs.len()
        )]);
    };
    let kind = doc.str_at(&["kind"]).unwrap_or("");
    let api = doc.str_at(&["apiVersion"]).unwrap_or("");
    if (api, kind) != ("v1", "Secret") {
        return Err(vec![format!(
            "error: stdin: expected a v1 Secret, got kind {kind:?} (apiVersion {api:?})"
        )]);
    }
    let name = doc.str_at(&["metadata", "name"]).unwrap_or("");
    let mut errors = Vec::new();
    let type_ = doc.str_at(&["type"]).unwrap_or("");
    if type_ != TOKEN_TYPE {
        errors.push(format!(
            "error: stdin: Secret {name:?} has type {type_:?}, not a ServiceAccount token Secret ({TOKEN_TYPE})"
        ));
    }
    let owner = doc.str_at(&["metadata", "annotations", SA_ANNOTATION]);
    if owner != Some(user) {
        errors.push(match owner {
            Some(owner) => format!(
                "error: stdin: Secret {name:?} is the token of ServiceAccount {owner:?}, not of user {user:?}"
            ),
            None => format!(
                "error: stdin: Secret {name:?} has no {SA_ANNOTATION} annotation: not a ServiceAccount token"
            ),
        });
    }
    let mut field = |key: &str| -> Option<Vec<u8>> {
        let Some(value) = doc.path(&["data", key]).and_then(Node::as_str) else {
            errors.push(format!(
                "error: stdin: Secret {name:?} has no data.{key}; the token controller fills it in \
                 shortly after the token Secret is created, so wait and retry"
            ));
            return None;
        };
        let compact: String = value.split_whitespace().collect();
        match base64::engine::general_purpose::STANDARD.decode(compact) {
            Ok(bytes) if !bytes.is_empty() => Some(bytes),
            Ok(_) => {
                errors.push(format!(
                    "error: stdin: Secret {name:?}: data.{key} is empty"
                ));
                None
            }
            Err(_) => {
                errors.push(format!(
                    "error: stdin: Secret {name:?}: data.{key} is not base64"
                ));
                None
            }
        }
    };
    let token = field(TOKEN_KEY);
    let ca = field(CA_KEY);
    match (token, ca) {
        (Some(token), Some(ca)) if errors.is_empty() => Ok(Token {
            token,
            ca,
            namespace: doc.str_at(&["metadata", "namespace"]).map(str::to_string),
        }),
        _ => Err(errors),
    }
}

/// Runs `kubevault external-secret-store` on the token Secret read from stdin.
pub fn store(args: &ExternalSecretStoreArgs, stdin: &str) -> Report {
    let mut problems = Vec::new();
    if !is_dns1123_label(&args.user) {
        problems.push(format!(
            "error: user {:?} is not a DNS-1123 label",
            args.user
        ));
    }
    if let Err(e) = check_server_url(&args.server) {
        problems.push(e);
    }
    let credentials = format!("{}-credentials", args.name);
    if !is_dns1123_subdomain(&credentials) {
        problems.push(format!(
            "error: --name {:?} is not a valid Kubernetes name (nor is {credentials:?})",
            args.name
        ));
    }
    match &args.namespace {
        Some(ns) if !is_dns1123_label(ns) => {
            problems.push(format!("error: --namespace {ns:?} is not a DNS-1123 label"))
        }
        None if args.clustered => problems.push(
            "error: --clustered needs --namespace NS: the consumer-cluster namespace that holds \
             the credentials Secret a ClusterSecretStore refers to"
                .into(),
        ),
        _ => {}
    }
    if !problems.is_empty() {
        return usage(problems);
    }
    let token = match read_token_secret(stdin, &args.user) {
        Ok(t) => t,
        Err(errors) => return failure(errors),
    };
    let mut messages = Vec::new();
    let remote_namespace = token.namespace.clone().unwrap_or_else(|| {
        messages.push(format!(
            "warning: the token Secret has no metadata.namespace; assuming the vault namespace is {DEFAULT_NAMESPACE}"
        ));
        DEFAULT_NAMESPACE.to_string()
    });
    let docs = store_objects(args, &token, &remote_namespace);
    Report {
        stdout: vec![emit_stream(&docs)],
        messages,
        exit: Exit::Success,
    }
}

fn store_objects(
    args: &ExternalSecretStoreArgs,
    token: &Token,
    remote_namespace: &str,
) -> Vec<Node> {
    let credentials = format!("{}-credentials", args.name);
    let data = BTreeMap::from([
        (CA_KEY.to_string(), ByteString(token.ca.clone())),
        (TOKEN_KEY.to_string(), ByteString(token.token.clone())),
    ]);
    let secret = Object::Secret(Secret {
        metadata: ObjectMeta {
            name: Some(credentials.clone()),
            namespace: args.namespace.clone(),
            ..Default::default()
        },
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Default::default()
    });
    // A ClusterSecretStore must say where its referenced Secret lives; a SecretStore must not.
    let reference = |key: &str, extra: &[(&str, Node)]| {
        let mut entries: Vec<(&str, Node)> = extra.to_vec();
        entries.push(("name", Node::string(credentials.clone())));
        if args.clustered
            && let Some(ns) = &args.namespace
        {
            entries.push(("namespace", Node::string(ns.clone())));
        }
        entries.push(("key", Node::string(key)));
        Node::map(entries)
    };
    let kind = if args.clustered {
        "ClusterSecretStore"
    } else {
        "SecretStore"
    };
    let mut metadata = vec![("name", Node::string(args.name.clone()))];
    if let (false, Some(ns)) = (args.clustered, &args.namespace) {
        metadata.push(("namespace", Node::string(ns.clone())));
    }
    let store = Node::map([
        ("apiVersion", Node::string(ESO_API_VERSION)),
        ("kind", Node::string(kind)),
        ("metadata", Node::map(metadata)),
        (
            "spec",
            Node::map([(
                "provider",
                Node::map([(
                    "kubernetes",
                    Node::map([
                        ("remoteNamespace", Node::string(remote_namespace)),
                        (
                            "server",
                            Node::map([
                                ("url", Node::string(args.server.clone())),
                                (
                                    "caProvider",
                                    reference(CA_KEY, &[("type", Node::string("Secret"))]),
                                ),
                            ]),
                        ),
                        (
                            "auth",
                            Node::map([(
                                "token",
                                Node::map([("bearerToken", reference(TOKEN_KEY, &[]))]),
                            )]),
                        ),
                    ]),
                )]),
            )]),
        ),
    ]);
    vec![secret.to_node(), store]
}

/// True for a Go `time.Duration` string as ESO parses it: `0`, or number+unit pairs
/// (`1h`, `1h30m`, `1.5h`, `90s`; units ns, us, µs, ms, s, m, h).
pub fn is_go_duration(s: &str) -> bool {
    go_parse_duration(s).is_some_and(|ns| ns >= 0)
}

/// Go's `time.ParseDuration` (what ESO's `metav1.Duration` uses): the duration in nanoseconds,
/// or `None` where Go returns an error (no unit, unknown unit, `.` alone, overflow of int64
/// nanoseconds, ...).
pub fn go_parse_duration(text: &str) -> Option<i64> {
    const LIMIT: u64 = 1 << 63;
    let mut s = text.as_bytes();
    let mut negative = false;
    if let Some(&c @ (b'-' | b'+')) = s.first() {
        negative = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return None;
        }
        // The integer part (overflow is an error).
        let mut whole: u64 = 0;
        let mut digits = 0;
        while digits < s.len() && s[digits].is_ascii_digit() {
            if whole > LIMIT / 10 {
                return None;
            }
            whole = whole * 10 + u64::from(s[digits] - b'0');
            if whole > LIMIT {
                return None;
            }
            digits += 1;
        }
        let pre = digits > 0;
        s = &s[digits..];
        // The fraction (digits past what fits are ignored, as in Go).
        let (mut fraction, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut overflow = false;
            let mut n = 0;
            while n < s.len() && s[n].is_ascii_digit() {
                if !overflow {
                    if fraction > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let next = fraction * 10 + u64::from(s[n] - b'0');
                        if next > LIMIT {
                            overflow = true;
                        } else {
                            fraction = next;
                            scale *= 10.0;
                        }
                    }
                }
                n += 1;
            }
            post = n > 0;
            s = &s[n..];
        }
        if !pre && !post {
            return None;
        }
        let unit_len = s
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match &s[..unit_len] {
            b"ns" => 1,
            b"us" | b"\xC2\xB5s" | b"\xCE\xBCs" => 1_000, // us, µs (micro sign), μs (mu)
            b"ms" => 1_000_000,
            b"s" => 1_000_000_000,
            b"m" => 60 * 1_000_000_000,
            b"h" => 3600 * 1_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if whole > LIMIT / unit {
            return None;
        }
        let mut value = whole * unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return None;
            }
        }
        total = total.checked_add(value).filter(|t| *t <= LIMIT)?;
    }
    if negative {
        return Some((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).ok()
}

/// How the consumer side pulls a vault secret: everything `external-secret` turns into an
/// ExternalSecret besides the secret itself.
#[derive(Clone, Debug)]
pub struct PullOptions {
    /// The store's name.
    pub store: String,
    /// The store is a ClusterSecretStore.
    pub clustered: bool,
    /// `spec.refreshInterval`.
    pub refresh: String,
    /// `spec.target.deletionPolicy`, as ESO spells it.
    pub deletion_policy: &'static str,
    /// `spec.target.creationPolicy`, as ESO spells it.
    pub creation_policy: &'static str,
    /// Only these keys (`spec.data`), else every key (`dataFrom.extract`).
    pub keys: Vec<KeyPull>,
}

/// One `--key NAME[=REMOTE_KEY]`: the consumer Secret's key and the vault secret's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPull {
    /// The key in the consumer Secret (`spec.data[].secretKey`).
    pub name: String,
    /// The key of the vault secret (`spec.data[].remoteRef.property`).
    pub remote: String,
}

/// Parses the `--key` arguments; `Err` lists every bad one.
pub fn parse_keys(args: &[String]) -> Result<Vec<KeyPull>, Vec<String>> {
    let mut keys: Vec<KeyPull> = Vec::new();
    let mut errors = Vec::new();
    for arg in args {
        let (name, remote) = arg.split_once('=').unwrap_or((arg, arg));
        let mut ok = true;
        for (what, key) in [("NAME", name), ("REMOTE_KEY", remote)] {
            if let Err(why) = crate::vault::secret_file::check_key(key) {
                errors.push(format!("error: --key {arg:?}: {what} {why}"));
                ok = false;
            }
        }
        if ok && keys.iter().any(|k| k.name == name) {
            errors.push(format!(
                "error: --key {arg:?}: the consumer key {name:?} is named twice"
            ));
            ok = false;
        }
        if ok {
            keys.push(KeyPull {
                name: name.into(),
                remote: remote.into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

fn deletion_policy(p: DeletionPolicy) -> &'static str {
    match p {
        DeletionPolicy::Retain => "Retain",
        DeletionPolicy::Delete => "Delete",
        DeletionPolicy::Merge => "Merge",
    }
}

fn creation_policy(p: CreationPolicy) -> &'static str {
    match p {
        CreationPolicy::Owner => "Owner",
        CreationPolicy::Orphan => "Orphan",
        CreationPolicy::Merge => "Merge",
        CreationPolicy::None => "None",
        CreationPolicy::CreateOrMerge => "CreateOrMerge",
    }
}

/// The flag problems `external-secret` finds before reading the vault (exit 2).
fn flag_problems(args: &ExternalSecretArgs) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_dns1123_subdomain(&args.store) {
        problems.push(format!(
            "error: --store {:?} is not a valid Kubernetes name",
            args.store
        ));
    }
    if !is_go_duration(&args.refresh) {
        problems.push(format!(
            "error: --refresh {:?} is not a duration Go (and so ESO) accepts, or is negative: write e.g. 1h, 15m, 1h30m (0 never refreshes)",
            args.refresh
        ));
    }
    if let Some(user) = &args.user
        && !is_dns1123_label(user)
    {
        problems.push(format!("error: --user {user:?} is not a DNS-1123 label"));
    }
    for ns in &args.namespaces {
        if !is_dns1123_label(ns) {
            problems.push(format!(
                "error: --namespaces: {ns:?} is not a namespace name (a DNS-1123 label)"
            ));
        }
    }
    // ESO's own admission rules: these pairs would delete or merge into a Secret it never made.
    use CreationPolicy as C;
    use DeletionPolicy as D;
    match (args.deletion_policy, args.creation_policy) {
        (D::Delete, C::Merge | C::None) => problems.push(
            "error: --deletion-policy Delete needs a Secret ESO owns: use --creation-policy Owner \
             (ESO refuses Delete with Merge or None)"
                .into(),
        ),
        (D::Merge, C::None) => problems.push(
            "error: --deletion-policy Merge with --creation-policy None: there is no Secret to \
             merge with (ESO refuses it)"
                .into(),
        ),
        _ => {}
    }
    if let Err(errors) = parse_keys(&args.keys) {
        problems.extend(errors);
    }
    if args.all && !args.keys.is_empty() {
        problems
            .push("error: --key picks keys of one secret; it cannot be combined with --all".into());
    }
    problems
}

/// Runs `kubevault external-secret`: one secret by identity, or every secret `--user` may read.
pub fn external_secret(args: &ExternalSecretArgs, cwd: &Path) -> Report {
    let problems = flag_problems(args);
    if !problems.is_empty() {
        return usage(problems);
    }
    let options = PullOptions {
        store: args.store.clone(),
        clustered: args.clustered || args.cluster_external_secret,
        refresh: args.refresh.clone(),
        deletion_policy: deletion_policy(args.deletion_policy),
        creation_policy: creation_policy(args.creation_policy),
        keys: parse_keys(&args.keys).unwrap_or_default(),
    };
    let checked = match load(&args.vault, cwd) {
        Ok(c) => c,
        Err(report) => return report,
    };
    let vault = &checked.vault;
    let user = match &args.user {
        Some(name) => match vault.users.iter().position(|u| &u.name == name) {
            Some(u) => Some(u),
            None => {
                let known: Vec<&str> = vault.users.iter().map(|u| u.name.as_str()).collect();
                return failure(vec![format!(
                    "error: no user {name:?} in the vault (users: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )]);
            }
        },
        None => None,
    };
    let secrets: Vec<&VaultSecret> = match (&args.identity, user) {
        (Some(identity), _) => {
            let secret = match find_secret(vault, identity) {
                Ok(s) => s,
                Err(message) => return failure(vec![message]),
            };
            if let Some(u) = user {
                let index = vault
                    .secrets
                    .iter()
                    .position(|s| std::ptr::eq(s, secret))
                    .unwrap_or(usize::MAX);
                if !checked.grants.readable[u].contains(index) {
                    return failure(vec![format!(
                        "error: user {:?} may not read {:?}, so an ExternalSecret through its \
                         token would fail with 403; `kubevault who-can-read {}` shows who may",
                        vault.users[u].name, secret.identity, secret.identity
                    )]);
                }
            }
            vec![secret]
        }
        (None, Some(u)) => {
            let readable = &checked.grants.readable[u];
            if readable.is_empty() {
                return failure(vec![format!(
                    "error: user {:?} may read no secret; nothing to pull",
                    vault.users[u].name
                )]);
            }
            readable.iter().map(|i| &vault.secrets[i]).collect()
        }
        // clap requires IDENTITY or --all (which requires --user).
        (None, None) => return usage(vec!["error: name an IDENTITY, or --user USER --all".into()]),
    };
    let mut docs = Vec::with_capacity(secrets.len());
    let mut errors = Vec::new();
    for secret in &secrets {
        if let Err(e) = check_keys(secret, &options.keys) {
            errors.extend(e);
            continue;
        }
        docs.push(if args.cluster_external_secret {
            cluster_external_secret_object(secret, &options, &args.namespaces)
        } else {
            external_secret_object(secret, &options)
        });
    }
    if !errors.is_empty() {
        return failure(errors);
    }
    match &args.output_dir {
        Some(dir) => {
            let files: Vec<(String, String)> = secrets
                .iter()
                .zip(&docs)
                .map(|(s, doc)| {
                    (
                        format!("{}.yaml", s.name),
                        emit_stream(std::slice::from_ref(doc)),
                    )
                })
                .collect();
            match super::safe_write::write_files(&cwd.join(dir), &files, 0o644) {
                Ok(()) => Report {
                    stdout: Vec::new(),
                    messages: vec![format!(
                        "wrote {} to {}",
                        if files.len() == 1 {
                            "1 file".to_string()
                        } else {
                            format!("{} files", files.len())
                        },
                        dir.display()
                    )],
                    exit: Exit::Success,
                },
                Err(e) => failure(vec![format!("error: {e:#}")]),
            }
        }
        None => Report {
            stdout: vec![emit_stream(&docs)],
            messages: Vec::new(),
            exit: Exit::Success,
        },
    }
}

/// `--key` against the secret: every remote key must exist, and the consumer keys must still
/// be what the secret's type needs. Messages name keys only.
fn check_keys(secret: &VaultSecret, keys: &[KeyPull]) -> Result<(), Vec<String>> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut errors = Vec::new();
    for k in keys {
        if !secret.data.contains_key(&k.remote) {
            let have: Vec<&str> = secret.data.keys().map(String::as_str).collect();
            errors.push(format!(
                "error: --key {}: {:?} has no key {:?} (its keys: {})",
                if k.name == k.remote {
                    k.name.clone()
                } else {
                    format!("{}={}", k.name, k.remote)
                },
                secret.identity,
                k.remote,
                have.join(", ")
            ));
        }
    }
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let problems = crate::vault::metadata::check_secret(&secret.shape, &names, &|_| None, 0);
    for p in problems {
        errors.push(format!(
            "error: with these --key flags the consumer Secret {:?}: {}",
            secret.name,
            p.message
                .replace(
                    "; add it to the secret file or change the rule",
                    "; pull it with --key"
                )
                .replace(
                    "; add them to the secret file or change the rule",
                    "; pull them with --key"
                )
                .replace(
                    "; add one to the secret file or change the rule",
                    "; pull one with --key"
                )
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The `spec` of an ExternalSecret that pulls `secret` into a same-named consumer Secret of the
/// same shape (`target.template`: type, labels, annotations); pure.
pub fn external_secret_spec(secret: &VaultSecret, options: &PullOptions) -> Node {
    let store_kind = if options.clustered {
        "ClusterSecretStore"
    } else {
        "SecretStore"
    };
    let shape = &secret.shape;
    let mut template = vec![
        ("engineVersion", Node::string("v2")),
        ("type", Node::string(shape.type_.clone())),
    ];
    let string_map = |map: &BTreeMap<String, String>| {
        Node::map(
            map.iter()
                .map(|(k, v)| (k.clone(), Node::string(v.clone()))),
        )
    };
    let mut metadata = Vec::new();
    if !shape.annotations.is_empty() {
        metadata.push(("annotations", string_map(&shape.annotations)));
    }
    if !shape.labels.is_empty() {
        metadata.push(("labels", string_map(&shape.labels)));
    }
    if !metadata.is_empty() {
        template.push(("metadata", Node::map(metadata)));
    }
    let mut target = vec![
        ("name", Node::string(secret.name.clone())),
        ("creationPolicy", Node::string(options.creation_policy)),
        ("deletionPolicy", Node::string(options.deletion_policy)),
    ];
    if let Some(immutable) = shape.immutable {
        target.push(("immutable", Node::plain(immutable.to_string())));
    }
    target.push(("template", Node::map(template)));
    let pull = if options.keys.is_empty() {
        (
            "dataFrom",
            Node::seq([Node::map([(
                "extract",
                Node::map([("key", Node::string(secret.name.clone()))]),
            )])]),
        )
    } else {
        (
            "data",
            Node::seq(options.keys.iter().map(|k| {
                Node::map([
                    ("secretKey", Node::string(k.name.clone())),
                    (
                        "remoteRef",
                        Node::map([
                            ("key", Node::string(secret.name.clone())),
                            ("property", Node::string(k.remote.clone())),
                        ]),
                    ),
                ])
            })),
        )
    };
    Node::map([
        ("refreshInterval", Node::string(options.refresh.clone())),
        (
            "secretStoreRef",
            Node::map([
                ("kind", Node::string(store_kind)),
                ("name", Node::string(options.store.clone())),
            ]),
        ),
        ("target", Node::map(target)),
        pull,
    ])
}

fn identity_annotation(secret: &VaultSecret) -> Node {
    Node::map([(
        "kubevault.dev/identity",
        Node::string(secret.identity.clone()),
    )])
}

/// An `ExternalSecret` named like the vault secret that pulls it into a same-named Secret of the
/// same shape; pure.
pub fn external_secret_object(secret: &VaultSecret, options: &PullOptions) -> Node {
    Node::map([
        ("apiVersion", Node::string(ESO_API_VERSION)),
        ("kind", Node::string("ExternalSecret")),
        (
            "metadata",
            Node::map([
                ("name", Node::string(secret.name.clone())),
                ("annotations", identity_annotation(secret)),
            ]),
        ),
        ("spec", external_secret_spec(secret, options)),
    ])
}

/// A `ClusterExternalSecret` that puts the same ExternalSecret into each of `namespaces`
/// (selected by the `kubernetes.io/metadata.name` label every namespace carries); pure.
pub fn cluster_external_secret_object(
    secret: &VaultSecret,
    options: &PullOptions,
    namespaces: &[String],
) -> Node {
    let mut namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    namespaces.sort_unstable();
    namespaces.dedup();
    Node::map([
        ("apiVersion", Node::string(ESO_API_VERSION)),
        ("kind", Node::string("ClusterExternalSecret")),
        (
            "metadata",
            Node::map([
                ("name", Node::string(secret.name.clone())),
                ("annotations", identity_annotation(secret)),
            ]),
        ),
        (
            "spec",
            Node::map([
                ("externalSecretName", Node::string(secret.name.clone())),
                (
                    "externalSecretMetadata",
                    Node::map([("annotations", identity_annotation(secret))]),
                ),
                (
                    "namespaceSelectors",
                    Node::seq([Node::map([(
                        "matchExpressions",
                        Node::seq([Node::map([
                            ("key", Node::string("kubernetes.io/metadata.name")),
                            ("operator", Node::string("In")),
                            (
                                "values",
                                Node::seq(namespaces.iter().map(|n| Node::string(*n))),
                            ),
                        ])]),
                    )])]),
                ),
                ("externalSecretSpec", external_secret_spec(secret, options)),
            ]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        for ok in [
            "https://vault.example.com",
            "https://vault.example.com:6443",
            "https://10.0.0.1:6443/",
            "https://[fd00::1]:6443",
            "HTTPS://k8s.example.com/prefix",
        ] {
            assert_eq!(check_server_url(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("http://vault.example.com", "https://"),
            ("vault.example.com", "https://"),
            ("https://", "no valid host"),
            ("https:///path", "no valid host"),
            ("https://:6443", "no valid host"),
            ("https://user:pw@host", "user information"),
            ("https://host:99999", "invalid port"),
            ("https://host:", "invalid port"),
            ("https://[fd00::1", "unclosed"),
        ] {
            let err = check_server_url(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn durations() {
        for ok in ["0", "1h", "15m", "1h30m", "1.5h", "90s", "100ms", "1h0m0s"] {
            assert!(is_go_duration(ok), "{ok}");
        }
        for bad in ["", "1", "h", "1d", "1h 30m", "-1h", "1..5h", "1hx"] {
            assert!(!is_go_duration(bad), "{bad}");
        }
    }

    #[test]
    fn durations_as_go_parses_them() {
        // (text, Go's time.ParseDuration in nanoseconds, None for an error)
        let table: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("+0", Some(0)),
            ("-0", Some(0)),
            ("00", None),
            ("0s", Some(0)),
            ("1.h", Some(3_600_000_000_000)),
            (".5h", Some(1_800_000_000_000)),
            (".", None),
            (".s", None),
            ("1.5.5s", None),
            ("1µs", Some(1_000)),
            ("1μs", Some(1_000)),
            ("1us", Some(1_000)),
            ("2h45m30.5s", Some(9_930_500_000_000)),
            ("1.0000000000000000000001s", Some(1_000_000_000)),
            ("9223372036854775807ns", Some(i64::MAX)),
            ("9223372036854775808ns", None),
            ("2562047h", Some(2_562_047 * 3_600_000_000_000)),
            ("2562048h", None),
            ("99999999999999999999h", None),
            ("1h1h", Some(7_200_000_000_000)),
            ("-1.5h", Some(-5_400_000_000_000)),
            ("1H", None),
            ("1 h", None),
            ("1h ", None),
            ("1ms1", None),
            ("1e3s", None),
        ];
        for (text, want) in table {
            assert_eq!(go_parse_duration(text), *want, "{text}");
        }
        // Negative durations parse, but a refresh interval must not be negative.
        assert!(!is_go_duration("-1.5h") && !is_go_duration("2562048h"));
    }

    #[test]
    fn token_secret_problems_are_all_reported_without_values() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: x, annotations: {kubernetes.io/service-account.name: bob}}\ntype: Opaque\ndata: {token: 'SENTINEL%%%'}\n";
        let errors = read_token_secret(text, "alice").err().unwrap().join("\n");
        for needle in [
            "type \"Opaque\"",
            "ServiceAccount \"bob\"",
            "data.token is not base64",
            "no data.ca.crt",
        ] {
            assert!(errors.contains(needle), "{needle}: {errors}");
        }
        assert!(!errors.contains("SENTINEL"));
    }
}
