//! Deterministic generator of synthetic kubevault vault directories, for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-vault -- DIR --secrets N --users U --rules R \
//!     [--seed S] [--role-heavy] [--pass-through-items K --resource-list FILE] [--force]
//! ```
//!
//! With `--role-heavy` the second to fourth rule of every user are `<env>/*/<app>/*` wildcards
//! (one app of every team in one environment), so each user reads thousands of secrets and the
//! Roles dominate the output (the "role-heavy L" benchmark size).
//!
//! It writes `DIR/kvstore/<env>/<team>/<app>/<name>[.yaml]` (N secret files, about half of them
//! with the `.yaml` extension, 4 keys each: short strings, a number such as `port: 5432`, and now
//! and then a multi-line block scalar) and `DIR/access_control/[<folder>/]<user>` (U users, some
//! of them in sub-folders such as `ops/`, each with exactly R rules plus a leading comment).
//! Rules mix `env/team/**` allows, `*/team/app/*` wildcards, `{a,b}` alternatives, `!` denies,
//! exact identities and a few `**/name*` rules; every rule is derived from a secret that exists,
//! so each one matches at least one identity.
//!
//! The number of teams grows with N (about 100 secrets per `env/team/**` and 8 per leaf folder),
//! so the work per rule and the size of each Role stay constant across sizes: doubling N or U
//! should double the work of a linear implementation.
//!
//! All user names are DNS-1123 labels and every secret identity maps to a unique DNS-1123 name
//! (path segments only use `[a-z0-9-]`, and the trailing `-<index>` of the last segment is unique).
//!
//! With `--resource-list FILE` it also writes a KRM `ResourceList` (`config.kubernetes.io/v1`)
//! holding K pass-through ConfigMaps and Deployments and a `KubeVault` functionConfig whose
//! `spec.vaultDir` is the absolute path of DIR.
//!
//! The same arguments always give a byte-identical tree: it uses its own splitmix64 generator and
//! no hash maps. DIR must be absent or empty unless `--force` is given, which first removes only
//! `DIR/kvstore` and `DIR/access_control`.
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Environments: the first segment of every identity.
const ENVS: &[&str] = &["prod", "staging", "dev", "qa"];

/// Words that team names are made of; past the end of the list a number is appended.
const TEAM_WORDS: &[&str] = &[
    "payments",
    "billing",
    "search",
    "identity",
    "checkout",
    "catalog",
    "shipping",
    "growth",
    "platform",
    "data",
    "ml",
    "mobile",
    "web",
    "infra",
    "security",
    "support",
    "ledger",
    "risk",
    "fraud",
    "pricing",
    "inventory",
    "notify",
    "media",
    "partners",
    "reporting",
];

/// Application folders below every team.
const APPS: &[&str] = &[
    "api",
    "worker",
    "web",
    "cron",
    "gateway",
    "auth",
    "indexer",
    "importer",
    "exporter",
    "admin",
    "scheduler",
    "proxy",
];

/// Base names of secret files; a unique `-<index>` is appended. None ends with a digit.
const BASES: &[&str] = &[
    "db",
    "redis",
    "smtp",
    "stripe-key",
    "s3",
    "tls",
    "oauth",
    "jwt",
    "kafka",
    "ldap",
    "sentry",
    "api-token",
];

/// First names that user names are made of (`<first>-<index>`).
const FIRST_NAMES: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe",
];

/// Number of secret-file lines in a block scalar.
const BLOCK_LINES: usize = 4;

/// A splitmix64 pseudo-random generator: tiny, fast and identical on every platform.
struct SplitMix64(u64);

impl SplitMix64 {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A random element of a non-empty slice.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `len` random characters from `[a-zA-Z0-9]`.
    fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len).map(|_| *self.pick(CHARS) as char).collect()
    }
}

/// Command-line options.
struct Options {
    /// Vault directory to create.
    dir: PathBuf,
    /// Number of secret files.
    secrets: usize,
    /// Number of users.
    users: usize,
    /// Rules per user.
    rules: usize,
    /// PRNG seed.
    seed: u64,
    /// Pass-through items in the ResourceList.
    pass_through_items: usize,
    /// Where to write the ResourceList, if anywhere.
    resource_list: Option<PathBuf>,
    /// Remove `kvstore/` and `access_control/` of an existing DIR first.
    force: bool,
    /// Give every user `<env>/*/<app>/*` rules that read thousands of secrets.
    role_heavy: bool,
}

/// Usage text printed by `--help` and on argument errors.
const USAGE: &str = "usage: gen-vault DIR --secrets N --users U --rules R [--seed S] \
[--role-heavy] [--pass-through-items K --resource-list FILE] [--force]";

impl Options {
    /// Parses `std::env::args()`; `Ok(None)` means `--help` was asked for.
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Self>, String> {
        let mut dir = None;
        let (mut secrets, mut users, mut rules) = (None, None, None);
        let mut opts = Options {
            dir: PathBuf::new(),
            secrets: 0,
            users: 0,
            rules: 0,
            seed: 42,
            pass_through_items: 0,
            resource_list: None,
            force: false,
            role_heavy: false,
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
            let number = |name: &str, v: String| {
                v.parse::<u64>()
                    .map_err(|_| format!("{name}: not a non-negative integer: {v:?}"))
            };
            match arg.as_str() {
                "-h" | "--help" => return Ok(None),
                "--secrets" => secrets = Some(number(&arg, value(&arg)?)? as usize),
                "--users" => users = Some(number(&arg, value(&arg)?)? as usize),
                "--rules" => rules = Some(number(&arg, value(&arg)?)? as usize),
                "--seed" => opts.seed = number(&arg, value(&arg)?)?,
                "--pass-through-items" => {
                    opts.pass_through_items = number(&arg, value(&arg)?)? as usize;
                }
                "--resource-list" => opts.resource_list = Some(PathBuf::from(value(&arg)?)),
                "--force" => opts.force = true,
                "--role-heavy" => opts.role_heavy = true,
                s if s.starts_with('-') => return Err(format!("unknown option {s:?}")),
                _ if dir.is_none() => dir = Some(PathBuf::from(arg)),
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        opts.dir = dir.ok_or("missing DIR")?;
        opts.secrets = secrets.ok_or("missing --secrets")?;
        opts.users = users.ok_or("missing --users")?;
        opts.rules = rules.ok_or("missing --rules")?;
        if opts.pass_through_items > 0 && opts.resource_list.is_none() {
            return Err("--pass-through-items needs --resource-list".into());
        }
        Ok(Some(opts))
    }
}

/// One synthetic secret: indexes into the name tables plus its unique number.
#[derive(Clone, Copy)]
struct Secret {
    /// Index into [`ENVS`].
    env: usize,
    /// Team number (see [`team_name`]).
    team: usize,
    /// Index into [`APPS`].
    app: usize,
    /// Index into [`BASES`].
    base: usize,
    /// Unique number, the suffix of the file name.
    index: usize,
}

impl Secret {
    /// File name without extension, e.g. `db-12`.
    fn name(&self) -> String {
        format!("{}-{}", BASES[self.base], self.index)
    }

    /// Identity as kubevault sees it, e.g. `prod/payments/api/db-12`.
    fn identity(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            ENVS[self.env],
            team_name(self.team),
            APPS[self.app],
            self.name()
        )
    }
}

/// Name of team number `n`: `payments`, ..., then `payments1`, `billing1`, ...
fn team_name(n: usize) -> String {
    let word = TEAM_WORDS[n % TEAM_WORDS.len()];
    match n / TEAM_WORDS.len() {
        0 => word.to_string(),
        k => format!("{word}{k}"),
    }
}

/// Number of teams for a vault of `secrets` secrets: about 100 secrets per `env/team`.
fn team_count(secrets: usize) -> usize {
    (secrets / (100 * ENVS.len())).max(4)
}

/// Picks the secrets of the vault and draws their places.
fn plan_secrets(rng: &mut SplitMix64, count: usize) -> Vec<Secret> {
    let teams = team_count(count);
    (0..count)
        .map(|index| Secret {
            env: rng.below(ENVS.len()),
            team: rng.below(teams),
            app: rng.below(APPS.len()),
            base: rng.below(BASES.len()),
            index,
        })
        .collect()
}

/// The YAML text of one secret file: 4 keys, one of them a number, sometimes a block scalar.
fn secret_body(rng: &mut SplitMix64, secret: &Secret) -> String {
    let base = BASES[secret.base];
    let (number_key, number) = match base {
        "db" => ("port", 5432),
        "redis" => ("port", 6379),
        "smtp" => ("port", 587),
        "kafka" => ("port", 9092),
        "ldap" => ("port", 636),
        _ => ("timeout", 5 + rng.below(120)),
    };
    let host = format!(
        "{}.{}.{}.svc",
        secret.name(),
        team_name(secret.team),
        ENVS[secret.env]
    );
    let mut out = String::with_capacity(256);
    if rng.chance(10) {
        let _ = writeln!(
            out,
            "# rotated by the bench generator, batch {}",
            rng.below(50)
        );
    }
    let _ = writeln!(out, "host: {host}");
    let _ = writeln!(out, "{number_key}: {number}");
    let _ = writeln!(
        out,
        "username: svc_{}_{}",
        team_name(secret.team),
        APPS[secret.app]
    );
    if base == "tls" || rng.chance(8) {
        out.push_str("certificate: |\n  -----BEGIN CERTIFICATE-----\n");
        for _ in 0..BLOCK_LINES {
            let _ = writeln!(out, "  {}", rng.alnum(64));
        }
        out.push_str("  -----END CERTIFICATE-----\n");
    } else if rng.chance(50) {
        let _ = writeln!(out, "password: \"{}\"", rng.alnum(24));
    } else {
        let _ = writeln!(out, "password: {}", rng.alnum(24));
    }
    out
}

/// The rules of one user: exactly `count` rules around a home `env/team`, after a comment.
fn user_rules(
    rng: &mut SplitMix64,
    user: &str,
    count: usize,
    role_heavy: bool,
    secrets: &[Secret],
    by_env_team: &[Vec<usize>],
    teams: usize,
) -> String {
    // A random existing secret, preferably in `env/team` (falls back to any secret).
    let secret_in = |rng: &mut SplitMix64, env: usize, team: usize| -> Secret {
        let pool = &by_env_team[env * teams + team];
        if pool.is_empty() {
            *rng.pick(secrets)
        } else {
            secrets[*rng.pick(pool)]
        }
    };
    let home = *rng.pick(secrets);
    let mut allowed: Vec<(usize, usize)> = vec![(home.env, home.team)];
    let mut out = format!("# {user}: generated by gen-vault\n");
    for i in 0..count {
        if i == 0 {
            let _ = writeln!(out, "{}/{}/**", ENVS[home.env], team_name(home.team));
            continue;
        }
        let roll = rng.below(100);
        let s = *rng.pick(secrets);
        if role_heavy && i <= 3 {
            // One app of every team in one environment: thousands of secrets at L.
            let _ = writeln!(out, "{}/*/{}/*", ENVS[s.env], APPS[s.app]);
            continue;
        }
        let line = match roll {
            // Another team in some environment.
            0..=24 => {
                allowed.push((s.env, s.team));
                format!("{}/{}/**", ENVS[s.env], team_name(s.team))
            }
            // One app of a team, in every environment.
            25..=39 => format!("*/{}/{}/*", team_name(s.team), APPS[s.app]),
            // Two apps of a team, with braces.
            40..=44 => {
                let other = (s.app + 1 + rng.below(APPS.len() - 1)) % APPS.len();
                format!(
                    "{}/{}/{{{},{}}}/*",
                    ENVS[s.env],
                    team_name(s.team),
                    APPS[s.app],
                    APPS[other]
                )
            }
            // One exact identity.
            45..=59 => s.identity(),
            // A few `**/name*` rules: a base name and the leading digits of an index.
            60..=64 => {
                let digits = s.index.to_string();
                let prefix = &digits[..digits.len().min(2)];
                format!("**/{}-{prefix}*", BASES[s.base])
            }
            // Denies inside something already allowed: one app, or one exact secret.
            _ => {
                let (env, team) = *rng.pick(&allowed);
                let d = secret_in(rng, env, team);
                if rng.chance(50) {
                    format!("!{}/{}/{}/*", ENVS[env], team_name(team), APPS[d.app])
                } else {
                    format!("!{}", d.identity())
                }
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Writes the vault under `opts.dir`.
fn write_vault(opts: &Options, rng: &mut SplitMix64) -> std::io::Result<()> {
    let kvstore = opts.dir.join("kvstore");
    let access_control = opts.dir.join("access_control");
    if opts.force {
        for dir in [&kvstore, &access_control] {
            if dir.exists() {
                fs::remove_dir_all(dir)?;
            }
        }
    } else if opts.dir.exists() && fs::read_dir(&opts.dir)?.next().is_some() {
        return Err(std::io::Error::other(format!(
            "{} exists and is not empty (use --force to regenerate)",
            opts.dir.display()
        )));
    }
    fs::create_dir_all(&kvstore)?;
    fs::create_dir_all(&access_control)?;

    let secrets = plan_secrets(rng, opts.secrets);
    let teams = team_count(opts.secrets);
    let mut by_env_team = vec![Vec::new(); ENVS.len() * teams];
    let mut made_dirs = BTreeSet::new();
    for (i, s) in secrets.iter().enumerate() {
        by_env_team[s.env * teams + s.team].push(i);
        let dir = kvstore
            .join(ENVS[s.env])
            .join(team_name(s.team))
            .join(APPS[s.app]);
        if made_dirs.insert(dir.clone()) {
            fs::create_dir_all(&dir)?;
        }
        let ext = if rng.chance(50) { ".yaml" } else { "" };
        let body = secret_body(rng, s);
        fs::write(dir.join(format!("{}{ext}", s.name())), body)?;
    }

    if secrets.is_empty() && opts.users > 0 {
        return Err(std::io::Error::other(
            "--users needs at least one secret to derive rules from",
        ));
    }
    for u in 0..opts.users {
        let user = format!("{}-{u}", rng.pick(FIRST_NAMES));
        let folder = match rng.below(100) {
            0..=19 => access_control.join("ops"),
            20..=29 => access_control
                .join("teams")
                .join(team_name(rng.below(teams))),
            _ => access_control.clone(),
        };
        if made_dirs.insert(folder.clone()) {
            fs::create_dir_all(&folder)?;
        }
        let body = user_rules(
            rng,
            &user,
            opts.rules,
            opts.role_heavy,
            &secrets,
            &by_env_team,
            teams,
        );
        fs::write(folder.join(&user), body)?;
    }
    Ok(())
}

/// Quotes `s` as a single-quoted YAML scalar.
fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes the KRM ResourceList with `opts.pass_through_items` items and the functionConfig.
fn write_resource_list(opts: &Options, path: &Path, rng: &mut SplitMix64) -> std::io::Result<()> {
    let vault = fs::canonicalize(&opts.dir)?;
    let vault = vault
        .to_str()
        .ok_or_else(|| std::io::Error::other("vault path is not UTF-8"))?;
    let mut out = BufWriter::new(fs::File::create(path)?);
    writeln!(out, "apiVersion: config.kubernetes.io/v1")?;
    writeln!(out, "kind: ResourceList")?;
    writeln!(out, "items:")?;
    for i in 0..opts.pass_through_items {
        let app = format!("{}-{i}", APPS[rng.below(APPS.len())]);
        let team = team_name(rng.below(TEAM_WORDS.len()));
        let kind_file = if i % 2 == 0 {
            "configmap"
        } else {
            "deployment"
        };
        let annotations = format!(
            "    annotations:\n      config.kubernetes.io/index: '0'\n      \
             config.kubernetes.io/path: 'apps/{app}/{kind_file}.yaml'\n      \
             internal.config.kubernetes.io/path: 'apps/{app}/{kind_file}.yaml'\n"
        );
        if i % 2 == 0 {
            write!(
                out,
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: {app}-config\n    \
                 namespace: {team}\n    labels:\n      app.kubernetes.io/name: {app}\n{annotations}  \
                 data:\n    LOG_LEVEL: info\n    FEATURE_FLAGS: \"{}\"\n    REPLICAS: \"{}\"\n    \
                 settings.json: |\n      {{\"retries\": {}, \"endpoint\": \"https://{app}.{team}.svc\"}}\n",
                rng.alnum(16),
                1 + rng.below(5),
                rng.below(10),
            )?;
        } else {
            write!(
                out,
                "- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: {app}\n    \
                 namespace: {team}\n    labels:\n      app.kubernetes.io/name: {app}\n{annotations}  \
                 spec:\n    replicas: {}\n    selector:\n      matchLabels:\n        \
                 app.kubernetes.io/name: {app}\n    template:\n      metadata:\n        labels:\n          \
                 app.kubernetes.io/name: {app}\n      spec:\n        containers:\n        \
                 - name: {app}\n          image: registry.example/{team}/{app}:{}.{}.{}\n          \
                 ports:\n          - containerPort: 8080\n          env:\n          \
                 - name: LOG_LEVEL\n            value: info\n          resources:\n            \
                 limits:\n              memory: 256Mi\n              cpu: 500m\n",
                1 + rng.below(5),
                rng.below(4),
                rng.below(20),
                rng.below(10),
            )?;
        }
    }
    if opts.pass_through_items == 0 {
        // `items:` with nothing after it would be null; make it an empty list.
        writeln!(out, "  []")?;
    }
    writeln!(out, "functionConfig:")?;
    writeln!(out, "  apiVersion: kubevault.dev/v1alpha1")?;
    writeln!(out, "  kind: KubeVault")?;
    writeln!(out, "  metadata:")?;
    writeln!(out, "    name: bench")?;
    writeln!(out, "  spec:")?;
    writeln!(out, "    vaultDir: {}", yaml_quote(vault))?;
    out.flush()
}

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("gen-vault: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Separate streams so that the ResourceList does not change the vault and vice versa.
    let mut vault_rng = SplitMix64(opts.seed);
    let mut list_rng = SplitMix64(opts.seed ^ 0x5EED_1157_0000_0001);
    let result = write_vault(&opts, &mut vault_rng).and_then(|()| match &opts.resource_list {
        Some(path) => write_resource_list(&opts, path, &mut list_rng),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-vault: {e}");
            ExitCode::FAILURE
        }
    }
}
