//! Hints for access mistakes: the likely fix for a rule that matches no secret (a folder needs
//! `/**`, no `kvstore/` prefix, no `.yaml`, no leading `/`, no inline comment, the case or the
//! nearest identity), the secret a mistyped identity argument most likely meant (`who-can-read`,
//! `external-secret`), and the user name a mis-named access-control file most likely meant.
//! Pure: callers pass the identities and user names they have.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};

use glob_match::glob_match;

use super::names::{is_dns1123_label, secret_name};

/// Why a written identity was not one, and what fixes it.
type Slip = &'static str;

const INLINE_COMMENT: Slip = "an inline comment is part of the pattern (a comment goes on a line \
                              of its own, starting with `#`)";
const LEADING_SLASH: Slip = "identities have no leading `/`";
const KVSTORE_PREFIX: Slip =
    "drop the `kvstore/` prefix (rules match identities: the paths under kvstore/)";
const YAML_SUFFIX: Slip = "identities have no `.yaml`";
const FOLDER: Slip = "a folder needs `/**`";
const ONE_FOLDER: Slip = "`*` stays within one folder, `**` crosses folders";
const NOT_A_FOLDER: Slip = "`/**` matches below a folder, and this names a secret";
const CASE: Slip = "rules are case-sensitive";
const SECRET_NAME: Slip = "that is the Secret name; rules match identities";

/// How many identity comparisons the nearest-identity hints of one run may make in all: past
/// it (thousands of mistyped rules in a vault of 100 000 secrets), rules still get every other
/// hint, and ` (a typo?)` instead of the nearest identity, so a broken vault is not slow to check.
const NEAREST_BUDGET: usize = 1_000_000;

/// The identities of a vault, indexed for hints. Built once, when the first rule needs a hint.
pub struct Identities<'a> {
    /// In the caller's order: on a tie, the first one is suggested.
    ids: Vec<&'a str>,
    /// Sorted, so that a pattern is tried only on the identities starting with its literal part.
    sorted: Vec<&'a str>,
    /// Secret name -> index of the first identity with that name.
    by_name: HashMap<String, usize>,
    /// Every folder holding a secret, at any depth (`prod`, `prod/db` for `prod/db/main`).
    folders: BTreeSet<&'a str>,
    /// Comparisons left for nearest-identity hints (see [`NEAREST_BUDGET`]).
    budget: Cell<usize>,
    /// Hints already given, by pattern and allow/deny: many users often share one mistake.
    given: RefCell<HashMap<(String, bool), String>>,
}

impl<'a> Identities<'a> {
    /// Indexes `ids` (in the caller's order: on a tie, the first one is suggested).
    pub fn new(ids: impl IntoIterator<Item = &'a str>) -> Self {
        Self::with_budget(ids, NEAREST_BUDGET)
    }

    fn with_budget(ids: impl IntoIterator<Item = &'a str>, budget: usize) -> Self {
        let ids: Vec<&str> = ids.into_iter().collect();
        let folders = ids
            .iter()
            .flat_map(|id| id.match_indices('/').map(|(at, _)| &id[..at]))
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        let mut by_name = HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            by_name.entry(secret_name(id)).or_insert(i);
        }
        Identities {
            ids,
            sorted,
            by_name,
            folders,
            budget: Cell::new(budget),
            given: RefCell::default(),
        }
    }

    fn any_match(&self, pattern: &str) -> bool {
        let literal = &pattern[..pattern.find(GLOB).unwrap_or(pattern.len())];
        let from = self.sorted.partition_point(|id| *id < literal);
        self.sorted[from..]
            .iter()
            .take_while(|id| id.starts_with(literal))
            .any(|id| glob_match(pattern, id))
    }

    /// What follows "`{pattern}` matches no secret" in the warning for a rule: the fix as a
    /// rule to write (`!` kept for a deny rule), the nearest identity, or just ` (a typo?)`.
    ///
    /// ```
    /// use kubevault::vault::rule_hints::Identities;
    /// let ids = Identities::new(["prod/api", "prod/db"]);
    /// assert_eq!(ids.unmatched_rule("prod", true), "; a folder needs `/**`: write `prod/**`");
    /// assert_eq!(ids.unmatched_rule("prod/apj", false), " (a typo?); the nearest identity is `prod/api`: write `!prod/api`");
    /// ```
    pub fn unmatched_rule(&self, pattern: &str, allow: bool) -> String {
        let key = (pattern.to_string(), allow);
        if let Some(hint) = self.given.borrow().get(&key) {
            return hint.clone();
        }
        let hint = self.hint(pattern, allow);
        self.given.borrow_mut().insert(key, hint.clone());
        hint
    }

    fn hint(&self, pattern: &str, allow: bool) -> String {
        let bang = if allow { "" } else { "!" };
        let (fixed, mut slips) = undo_slips(pattern);
        if !slips.is_empty() && self.any_match(&fixed) {
            return format!("; {}: write `{bang}{fixed}`", slips.join("; "));
        }
        if let Some((better, slip)) = self.better_pattern(&fixed) {
            slips.push(slip);
            return format!("; {}: write `{bang}{better}`", slips.join("; "));
        }
        let nearest = if is_literal(&fixed) {
            self.nearest_identity(&fixed)
                .map(|id| ("identity", id.to_string(), id.to_string()))
        } else {
            self.nearest_folder(&fixed)
                .map(|(folder, rule)| ("folder", folder.to_string(), rule))
                .or_else(|| {
                    // `prod/dv/**` where `prod/db` is a secret, not a folder.
                    let base = fixed.strip_suffix("/**").filter(|b| is_literal(b))?;
                    let id = self.nearest_identity(base)?;
                    Some(("identity", id.to_string(), id.to_string()))
                })
        };
        let also = if slips.is_empty() {
            String::new()
        } else {
            format!("; {}", slips.join("; "))
        };
        match nearest {
            Some((what, near, rule)) => {
                format!(" (a typo?){also}; the nearest {what} is `{near}`: write `{bang}{rule}`")
            }
            None if slips.is_empty() => " (a typo?)".into(),
            None => format!(" (a typo?){also}, though `{fixed}` matches no secret either"),
        }
    }

    /// A pattern one well-known slip away that matches: the folder itself, a name written in
    /// the wrong case or as a Secret name, `*` for `**`.
    fn better_pattern(&self, fixed: &str) -> Option<(String, Slip)> {
        if is_literal(fixed) {
            let folder = format!("{}/**", fixed.trim_end_matches('/'));
            if self.any_match(&folder) {
                return Some((folder, FOLDER));
            }
            let name = secret_name(fixed);
            let id = self.ids[*self.by_name.get(&name)?];
            let slip = if id.eq_ignore_ascii_case(fixed) {
                CASE
            } else if !fixed.contains('/') && fixed == name {
                SECRET_NAME
            } else {
                return None;
            };
            return Some((id.to_string(), slip));
        }
        if let Some(base) = fixed
            .strip_suffix("/**")
            .filter(|b| is_literal(b) && self.sorted.binary_search(b).is_ok())
        {
            return Some((base.to_string(), NOT_A_FOLDER));
        }
        let crossing = fixed.strip_suffix("/*").map(|base| format!("{base}/**"));
        crossing
            .filter(|p| self.any_match(p))
            .map(|p| (p, ONE_FOLDER))
    }

    /// The identity closest to `written` in edit distance, if close enough to be a slip.
    fn nearest_identity(&self, written: &str) -> Option<&'a str> {
        self.nearest(self.ids.iter().copied(), written)
    }

    /// The candidate closest to `written`, within a distance that still reads as a slip (1 for
    /// up to 4 characters, 2 up to 12, else 3); on a tie, the first. `None` once the run's
    /// budget of comparisons is spent.
    fn nearest<'c>(
        &self,
        candidates: impl Iterator<Item = &'c str>,
        written: &str,
    ) -> Option<&'c str> {
        let most = match written.chars().count() {
            0..=4 => 1,
            5..=12 => 2,
            _ => 3,
        };
        let mut best: Option<(usize, &str)> = None;
        for c in candidates {
            let left = self.budget.get().checked_sub(1)?;
            self.budget.set(left);
            let limit = best.map_or(most, |(d, _)| d - 1);
            if let Some(d) = edit_distance_within(c, written, limit) {
                best = Some((d, c));
                if d == 1 {
                    break;
                }
            }
        }
        best.map(|(_, c)| c)
    }

    /// For a glob whose literal folder part holds no secret: the nearest folder that does, and
    /// the pattern with it (when that pattern matches).
    fn nearest_folder(&self, pattern: &str) -> Option<(&'a str, String)> {
        let literal = &pattern[..pattern.find(GLOB)?];
        let base = &literal[..literal.rfind('/')?];
        if base.is_empty() || self.folders.contains(base) {
            return None;
        }
        let folder = self.nearest(self.folders.iter().copied(), base)?;
        let rule = format!("{folder}{}", &pattern[base.len()..]);
        self.any_match(&rule).then_some((folder, rule))
    }

    /// The index of the identity an argument most likely meant: written as a path under the
    /// vault or kvstore/, with `.yaml`, as the Secret name, in the wrong case, or one slip away.
    pub fn likely(&self, written: &str) -> Option<usize> {
        let (fixed, _) = undo_slips(written.trim_start_matches("./"));
        let position = |want: &str| self.ids.iter().position(|id| *id == want);
        position(&fixed)
            .or_else(|| self.by_name.get(&secret_name(&fixed)).copied())
            .or_else(|| position(self.nearest_identity(&fixed)?))
    }
}

/// True when a pattern has no glob syntax: it matches only itself.
fn is_literal(pattern: &str) -> bool {
    !pattern.contains(GLOB)
}

/// The characters that start glob syntax.
const GLOB: [char; 5] = ['*', '?', '[', '{', '\\'];

/// The written pattern with the usual slips undone, in order, and the slips found.
fn undo_slips(written: &str) -> (String, Vec<Slip>) {
    let mut slips = Vec::new();
    let mut p = written;
    if let Some(at) = p.find(" #").or_else(|| p.find("\t#")) {
        p = p[..at].trim_end();
        slips.push(INLINE_COMMENT);
    }
    if p.starts_with('/') {
        p = p.trim_start_matches('/');
        slips.push(LEADING_SLASH);
    }
    let prefix_end = p
        .match_indices("kvstore/")
        .find(|(at, _)| *at == 0 || p[..*at].ends_with('/'))
        .map(|(at, m)| at + m.len())
        .filter(|end| is_literal(&p[..*end]));
    if let Some(end) = prefix_end {
        p = &p[end..];
        slips.push(KVSTORE_PREFIX);
    }
    if let Some(stem) = p.strip_suffix(".yaml").or_else(|| p.strip_suffix(".yml")) {
        p = stem;
        slips.push(YAML_SUFFIX);
    }
    let mut fixed = p.to_string();
    if p.ends_with('/') && is_literal(p) && !p.trim_end_matches('/').is_empty() {
        fixed = format!("{}/**", p.trim_end_matches('/'));
        slips.push(FOLDER);
    }
    (fixed, slips)
}

/// The edit distance (Levenshtein, in characters) between `a` and `b` when it is at most
/// `most`: rows stop as soon as every entry is over the bound.
pub fn edit_distance_within(a: &str, b: &str, most: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    if a.chars().count().abs_diff(b.len()) > most {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = Vec::with_capacity(b.len() + 1);
    for (i, ca) in a.chars().enumerate() {
        cur.clear();
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        if cur.iter().all(|&d| d > most) {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= most).then_some(d)
}

/// The hint for an access-control file whose name is not a valid user name: the valid name it
/// most likely meant (lowercase, no extension, `-` for other characters), and what to do when a
/// file of that name exists too. Empty when no valid name is near.
///
/// ```
/// use kubevault::vault::rule_hints::user_name_hint;
/// assert_eq!(user_name_hint("Eve", &[]), ": rename the file to `eve` (user names are lowercase)");
/// ```
pub fn user_name_hint(name: &str, existing: &[&str]) -> String {
    let stem = [".yaml", ".yml", ".txt"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .filter(|stem| !stem.is_empty());
    let why = match stem {
        Some(_) => "access-control files have no extension",
        None if name.chars().any(|c| c.is_ascii_uppercase()) => "user names are lowercase",
        None => "user names hold only a-z, 0-9 and '-'",
    };
    let canonical = secret_name(stem.unwrap_or(name));
    if !is_dns1123_label(&canonical) {
        return String::new();
    }
    let hint = format!(": rename the file to `{canonical}` ({why})");
    if existing.contains(&canonical.as_str()) {
        format!("{hint}; user `{canonical}` has a file already: move these rules into it")
    } else {
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT: &[&str] = &[
        "prod/api",
        "prod/db/main",
        "prod/db/replica",
        "shared/tls",
        "staging/app/config",
    ];

    /// (rule, allow, the hint after "matches no secret")
    #[test]
    fn rule_mistakes_and_their_hints() {
        let ids = Identities::new(VAULT.iter().copied());
        let table: &[(&str, bool, &str)] = &[
            ("prod", true, "; a folder needs `/**`: write `prod/**`"),
            ("prod/", true, "; a folder needs `/**`: write `prod/**`"),
            (
                "prod/db",
                false,
                "; a folder needs `/**`: write `!prod/db/**`",
            ),
            (
                "kvstore/prod/**",
                true,
                "; drop the `kvstore/` prefix (rules match identities: the paths under kvstore/): \
                 write `prod/**`",
            ),
            (
                "vault/kvstore/shared/tls",
                true,
                "; drop the `kvstore/` prefix (rules match identities: the paths under kvstore/): \
                 write `shared/tls`",
            ),
            (
                "prod/api.yaml",
                true,
                "; identities have no `.yaml`: write `prod/api`",
            ),
            (
                "staging/app/config.yml",
                false,
                "; identities have no `.yaml`: write `!staging/app/config`",
            ),
            (
                "/prod/api",
                true,
                "; identities have no leading `/`: write `prod/api`",
            ),
            (
                "prod/** # note",
                true,
                "; an inline comment is part of the pattern (a comment goes on a line of its \
                 own, starting with `#`): write `prod/**`",
            ),
            (
                "/kvstore/prod/api.yaml",
                true,
                "; identities have no leading `/`; drop the `kvstore/` prefix (rules match \
                 identities: the paths under kvstore/); identities have no `.yaml`: write \
                 `prod/api`",
            ),
            (
                "kvstore/prod",
                true,
                "; drop the `kvstore/` prefix (rules match identities: the paths under kvstore/); \
                 a folder needs `/**`: write `prod/**`",
            ),
            (
                "prod/apj",
                true,
                " (a typo?); the nearest identity is `prod/api`: write `prod/api`",
            ),
            (
                "!prod/ap",
                true,
                " (a typo?); the nearest identity is `prod/api`: write `!prod/api`",
            ),
            (
                "prod/dv/**",
                false,
                " (a typo?); the nearest folder is `prod/db`: write `!prod/db/**`",
            ),
            (
                "stagin/*/config",
                true,
                " (a typo?); the nearest folder is `staging`: write `staging/*/config`",
            ),
            (
                "Prod/API",
                true,
                "; rules are case-sensitive: write `prod/api`",
            ),
            (
                "shared-tls",
                true,
                "; that is the Secret name; rules match identities: write `shared/tls`",
            ),
            (
                "staging/*",
                true,
                "; `*` stays within one folder, `**` crosses folders: write `staging/**`",
            ),
            (
                "shared/tls/**",
                false,
                "; `/**` matches below a folder, and this names a secret: write `!shared/tls`",
            ),
            (
                "shared/tsl/**",
                false,
                " (a typo?); the nearest identity is `shared/tls`: write `!shared/tls`",
            ),
            ("nothing/**", true, " (a typo?)"),
            ("zzz", false, " (a typo?)"),
            ("**/nothing", true, " (a typo?)"),
            (
                "kvstore/nothing/**",
                true,
                " (a typo?); drop the `kvstore/` prefix (rules match identities: the paths under \
                 kvstore/), though `nothing/**` matches no secret either",
            ),
        ];
        for (rule, allow, want) in table {
            let (allow, rule) = match rule.strip_prefix('!') {
                Some(rest) => (false, rest),
                None => (*allow, *rule),
            };
            assert_eq!(ids.unmatched_rule(rule, allow), *want, "{rule}");
        }
    }

    #[test]
    fn every_suggested_rule_matches() {
        let ids = Identities::new(VAULT.iter().copied());
        for rule in [
            "prod",
            "kvstore/prod/**",
            "prod/api.yaml",
            "/prod/api",
            "prod/** # note",
            "prod/apj",
            "prod/dv/**",
            "Prod/API",
            "shared-tls",
            "staging/*",
            "shared/tls/**",
            "shared/tsl/**",
        ] {
            let hint = ids.unmatched_rule(rule, true);
            let suggested = hint
                .rsplit_once("write `")
                .and_then(|(_, r)| r.strip_suffix('`'))
                .unwrap_or_else(|| panic!("{rule}: no suggestion in {hint:?}"));
            assert!(ids.any_match(suggested), "{rule} -> {suggested}");
        }
    }

    #[test]
    fn a_spent_budget_drops_only_the_nearest_identity() {
        let ids = Identities::with_budget(VAULT.iter().copied(), 3);
        // The first search uses up the budget before reaching `prod/api`'s neighbours.
        assert_eq!(ids.unmatched_rule("shared/tsl", true), " (a typo?)");
        assert_eq!(ids.unmatched_rule("prod/apj", true), " (a typo?)");
        assert_eq!(
            ids.unmatched_rule("prod", true),
            "; a folder needs `/**`: write `prod/**`"
        );
        assert_eq!(
            ids.unmatched_rule("Prod/API", true),
            "; rules are case-sensitive: write `prod/api`"
        );
    }

    #[test]
    fn likely_identity_of_an_argument() {
        let ids = Identities::new(VAULT.iter().copied());
        let table: &[(&str, Option<&str>)] = &[
            ("prod/api", Some("prod/api")),
            ("kvstore/prod/api.yaml", Some("prod/api")),
            ("./kvstore/prod/api.yaml", Some("prod/api")),
            ("vault/kvstore/prod/api", Some("prod/api")),
            ("/prod/api", Some("prod/api")),
            ("prod-api", Some("prod/api")),
            ("PROD/API", Some("prod/api")),
            ("prod/db/mian", Some("prod/db/main")),
            ("prod", None),
            ("elsewhere/entirely", None),
        ];
        for (written, want) in table {
            assert_eq!(ids.likely(written).map(|i| VAULT[i]), *want, "{written}");
        }
    }

    #[test]
    fn bounded_edit_distance() {
        let table: &[(&str, &str, usize, Option<usize>)] = &[
            ("kitten", "sitting", 3, Some(3)),
            ("kitten", "sitting", 2, None),
            ("", "abc", 3, Some(3)),
            ("abc", "abc", 0, Some(0)),
            ("abcdef", "a", 2, None),
            ("café", "cafe", 1, Some(1)),
            ("prod/db", "prod/dv", 1, Some(1)),
        ];
        for (a, b, most, want) in table {
            assert_eq!(edit_distance_within(a, b, *most), *want, "{a} {b} {most}");
        }
    }

    #[test]
    fn user_names() {
        let table: &[(&str, &[&str], &str)] = &[
            (
                "Eve",
                &[],
                ": rename the file to `eve` (user names are lowercase)",
            ),
            (
                "Eve",
                &["eve"],
                ": rename the file to `eve` (user names are lowercase); user `eve` has a file \
                 already: move these rules into it",
            ),
            (
                "alice.yaml",
                &[],
                ": rename the file to `alice` (access-control files have no extension)",
            ),
            (
                "ci_bot",
                &[],
                ": rename the file to `ci-bot` (user names hold only a-z, 0-9 and '-')",
            ),
            ("_", &[], ""),
            ("日本", &[], ""),
        ];
        for (name, existing, want) in table {
            assert_eq!(user_name_hint(name, existing), *want, "{name}");
        }
    }
}
