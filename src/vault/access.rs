//! Who reads what: every user's rules evaluated against every secret identity.
//!
//! [`evaluate`] computes, once per distinct pattern, the set of secrets it matches, testing only
//! candidates: identities that start with the pattern's literal prefix (binary search over sorted
//! identities), else identities holding one of its literal segments (a segment index), else
//! identities containing its longest literal (a substring check before the glob). It then folds each user's rules over those sets in order: an allow ORs its set in, a
//! deny clears it. Applying rules in order this way gives exactly "the last matching rule wins,
//! default deny". A deny rule's set also holds every secret some other spelling of whose Secret
//! name the pattern matches ([`SpelledGlob`], candidates pruned by the name's prefix).
//! [`evaluate_naive`] is the straightforward evaluation, kept as the oracle the
//! fast one is tested against.

use std::collections::HashMap;

use glob_match::glob_match;

use super::model::Vault;
use super::rules::deciding_rule;
use super::spelling::SpelledGlob;
use crate::par::par_map;

/// The result of evaluating all rules of a vault.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Per user (same order as `Vault::users`): indices into `Vault::secrets` the user may read,
    /// ascending (so in Secret-name order).
    pub readable: Vec<Ids>,
    /// Per user: for each rule (file order), whether it matches at least one secret.
    pub rule_used: Vec<Vec<bool>>,
}

/// Ascending indices into `Vault::secrets`, four bytes each: the grants are the largest part of
/// the model of a role-heavy vault (1,000 users reading thousands of secrets each), and a vault
/// holds at most [`crate::limits::MAX_FILES`] secrets, far below `u32::MAX`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids(Vec<u32>);

impl Ids {
    /// How many indices.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The index at position `pos` (panics past the end, as slice indexing does).
    pub fn get(&self, pos: usize) -> usize {
        self.0[pos] as usize
    }

    /// True when `i` is one of them.
    pub fn contains(&self, i: usize) -> bool {
        u32::try_from(i).is_ok_and(|i| self.0.binary_search(&i).is_ok())
    }

    /// The indices, ascending.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.0.iter().map(|&i| i as usize)
    }

    /// The indices at positions `start..end`.
    pub fn range(&self, start: usize, end: usize) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.0[start..end].iter().map(|&i| i as usize)
    }
}

impl FromIterator<usize> for Ids {
    /// Collects ascending indices (each below `u32::MAX`; a vault holds at most
    /// [`crate::limits::MAX_FILES`] secrets).
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let ids: Vec<u32> = iter
            .into_iter()
            .map(|i| u32::try_from(i).expect("a secret index fits in u32 (MAX_FILES)"))
            .collect();
        debug_assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending");
        Ids(ids)
    }
}

impl PartialEq<Vec<usize>> for Ids {
    fn eq(&self, other: &Vec<usize>) -> bool {
        self.iter().eq(other.iter().copied())
    }
}

/// A set of secret indices.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
    fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        })
    }
}

/// The part of a pattern before its first glob character: every match starts with it.
fn literal_prefix(pattern: &str) -> &str {
    let end = pattern
        .find(['*', '?', '[', '{', '\\'])
        .unwrap_or(pattern.len());
    &pattern[..end]
}

/// Literal runs of a pattern outside `{...}` and `[...]`: every match contains each of them.
struct Pieces<'a> {
    /// The longest literal run (may be empty).
    longest: &'a str,
    /// Runs bounded by `/` or the ends of the pattern on both sides: each is a whole segment of
    /// every identity the pattern matches.
    segments: Vec<&'a str>,
    /// Runs bounded by `/` before but a glob character after: every identity the pattern
    /// matches has a segment starting with each of them.
    seg_prefixes: Vec<&'a str>,
}

impl<'a> Pieces<'a> {
    fn of(pattern: &'a str) -> Self {
        let bytes = pattern.as_bytes();
        let mut pieces = Pieces {
            longest: "",
            segments: Vec::new(),
            seg_prefixes: Vec::new(),
        };
        // glob-match's own reading of `{...}`, `[...]` and `\` differs from a plain glob's
        // (`{*,c}e,**` matches `a`; `[!]a[re-d[az]` is one negated class), so only patterns made
        // of literals, `*` and `?` have literal runs to rely on. The others are pruned by their
        // literal prefix only, which comes before any of those characters.
        if pattern.contains(['{', '[', '\\']) {
            return pieces;
        }
        let mut start = Some(0usize);
        // A run starts after a glob character or at the start; it is bounded before only at the
        // start of the pattern, bounded after only at its end (else a glob character follows).
        let close = |pieces: &mut Pieces<'a>, from: usize, to: usize| {
            let runs: Vec<&'a str> = pattern[from..to].split('/').collect();
            for (k, run) in runs.iter().enumerate() {
                if run.len() > pieces.longest.len() {
                    pieces.longest = run;
                }
                let bounded_before = k > 0 || from == 0;
                let bounded_after = k + 1 < runs.len() || to == bytes.len();
                if !run.is_empty() && bounded_before && bounded_after {
                    pieces.segments.push(run);
                } else if !run.is_empty() && bounded_before {
                    pieces.seg_prefixes.push(run);
                }
            }
        };
        // `*` and `?` are ASCII, so every cut below is on a character boundary.
        for (i, c) in bytes.iter().enumerate() {
            if matches!(c, b'*' | b'?') {
                if let Some(from) = start.take() {
                    close(&mut pieces, from, i);
                }
            } else {
                start.get_or_insert(i);
            }
        }
        if let Some(from) = start {
            close(&mut pieces, from, bytes.len());
        }
        pieces
    }
}

/// Every distinct rule pattern of the vault, once as an allow and once as a deny where it is one
/// (a deny also matches the other spellings of a name): its slot, and per slot the secrets it
/// matches (ascending indices into `vault.secrets`).
type PatternSets<'v> = (HashMap<(&'v str, bool), usize>, Vec<Vec<usize>>);

/// The ASCII start of a pattern's literal prefix as it shows in a Secret name (lowercase, `-`
/// for every other character): every name one of whose spellings the pattern matches starts
/// with it.
fn name_prefix(pattern: &str) -> String {
    literal_prefix(pattern)
        .chars()
        .take_while(char::is_ascii)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect()
}

/// The secrets (ascending) whose Secret name some spelling of which `pattern` matches.
fn spelled_set(vault: &Vault, pattern: &str) -> Vec<usize> {
    let glob = SpelledGlob::new(pattern);
    let prefix = name_prefix(pattern);
    // The longest literal run, when ASCII, is in every such name (as the name spells it).
    let longest = Pieces::of(pattern).longest;
    let inner = longest.is_ascii().then(|| name_prefix(longest));
    let start = vault
        .secrets
        .partition_point(|s| s.name.as_str() < prefix.as_str());
    vault.secrets[start..]
        .iter()
        .take_while(|s| s.name.starts_with(&prefix))
        .enumerate()
        .filter(|(_, s)| {
            inner
                .as_ref()
                .is_none_or(|run| s.name.contains(run.as_str()))
        })
        .filter(|(_, s)| glob.matches(&s.name))
        .map(|(k, _)| start + k)
        .collect()
}

fn pattern_sets(vault: &Vault) -> PatternSets<'_> {
    let mut sorted: Vec<(&str, usize)> = vault
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.identity.as_str(), i))
        .collect();
    sorted.sort_unstable();

    let mut slots: HashMap<(&str, bool), usize> = HashMap::new();
    let mut patterns: Vec<(&str, bool)> = Vec::new();
    for rule in vault.users.iter().flat_map(|u| &u.rules) {
        let key = (rule.pattern.as_str(), !rule.allow);
        slots.entry(key).or_insert_with(|| {
            patterns.push(key);
            patterns.len() - 1
        });
    }
    let mut segments: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, s) in vault.secrets.iter().enumerate() {
        for seg in s.identity.split('/') {
            let list = segments.entry(seg).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    // Distinct segments, sorted: the ones starting with a literal run are one range.
    let mut segment_names: Vec<&str> = segments.keys().copied().collect();
    segment_names.sort_unstable();
    // Per pattern, the secrets it matches, ascending (most patterns match few secrets).
    let sets: Vec<Vec<usize>> = par_map(&patterns, |&(pattern, deny)| {
        let mut bits = Vec::new();
        let prefix = literal_prefix(pattern);
        let pieces = Pieces::of(pattern);
        let longest_seg_prefix = pieces.seg_prefixes.iter().max_by_key(|p| p.len());
        if prefix.len() == pattern.len() {
            // Every identity equal to the pattern (a vault has unique identities, but the
            // evaluator does not rely on it).
            let start = sorted.partition_point(|(id, _)| *id < pattern);
            bits.extend(
                sorted[start..]
                    .iter()
                    .take_while(|(id, _)| *id == pattern)
                    .map(|(_, i)| *i),
            );
            bits.sort_unstable();
        } else if prefix.is_empty()
            && pieces.segments.is_empty()
            && let Some(run) = longest_seg_prefix
        {
            let start = segment_names.partition_point(|seg| *seg < *run);
            let mut candidates: Vec<usize> = segment_names[start..]
                .iter()
                .take_while(|seg| seg.starts_with(*run))
                .flat_map(|seg| segments[seg].iter().copied())
                .collect();
            candidates.sort_unstable();
            candidates.dedup();
            for i in candidates {
                if glob_match(pattern, &vault.secrets[i].identity) {
                    bits.push(i);
                }
            }
        } else if !prefix.is_empty() || pieces.segments.is_empty() {
            let start = sorted.partition_point(|(id, _)| *id < prefix);
            let longest = pieces.longest;
            for (id, i) in sorted[start..]
                .iter()
                .take_while(|(id, _)| id.starts_with(prefix))
            {
                if id.contains(longest) && glob_match(pattern, id) {
                    bits.push(*i);
                }
            }
            bits.sort_unstable();
        } else {
            let empty = Vec::new();
            let fewest = pieces
                .segments
                .iter()
                .map(|seg| segments.get(seg).unwrap_or(&empty))
                .min_by_key(|list| list.len())
                .unwrap_or(&empty);
            for &i in fewest {
                if glob_match(pattern, &vault.secrets[i].identity) {
                    bits.push(i);
                }
            }
        }
        if deny {
            bits.extend(spelled_set(vault, pattern));
            bits.sort_unstable();
            bits.dedup();
        }
        bits
    });

    (slots, sets)
}

/// For every user (in `vault.users` order) and every secret (in `vault.secrets` order), the
/// rule that decides: its 1-based position in the user's rules, 0 when no rule matches (denied
/// by default). The same "last matching rule wins" as [`evaluate`], computed the same fast way.
pub fn deciders(vault: &Vault) -> Vec<Vec<u32>> {
    let n = vault.secrets.len();
    let (slots, sets) = pattern_sets(vault);
    par_map(&vault.users, |user| {
        let mut decider = vec![0u32; n];
        for (r, rule) in user.rules.iter().enumerate() {
            for &i in &sets[slots[&(rule.pattern.as_str(), !rule.allow)]] {
                decider[i] = r as u32 + 1;
            }
        }
        decider
    })
}

/// Evaluates every user's rules against every secret (fast; same result as [`evaluate_naive`]).
pub fn evaluate(vault: &Vault) -> Grants {
    let n = vault.secrets.len();
    let (slots, sets) = pattern_sets(vault);
    let per_user = par_map(&vault.users, |user| {
        let mut readable = Bits::new(n);
        let mut used = Vec::with_capacity(user.rules.len());
        for rule in &user.rules {
            let set = &sets[slots[&(rule.pattern.as_str(), !rule.allow)]];
            used.push(!set.is_empty());
            for &i in set {
                if rule.allow {
                    readable.set(i);
                } else {
                    readable.clear(i);
                }
            }
        }
        (readable.ones().collect::<Ids>(), used)
    });
    let (readable, rule_used) = per_user.into_iter().unzip();
    Grants {
        readable,
        rule_used,
    }
}

/// The straightforward evaluation: every rule of every user against every secret.
pub fn evaluate_naive(vault: &Vault) -> Grants {
    let mut grants = Grants::default();
    for user in &vault.users {
        let readable = vault
            .secrets
            .iter()
            .enumerate()
            .filter(|(_, s)| deciding_rule(&user.rules, &s.identity).is_some_and(|r| r.allow))
            .map(|(i, _)| i)
            .collect();
        let used = user
            .rules
            .iter()
            .map(|r| vault.secrets.iter().any(|s| r.matches(&s.identity)))
            .collect();
        grants.readable.push(readable);
        grants.rule_used.push(used);
    }
    grants
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::model::{Secret, User};
    use crate::vault::rules::Rule;

    use crate::vault::test_rng::Rng;

    const SEGMENTS: &[&str] = &[
        "a",
        "ab",
        "b",
        "prod",
        "Prod",
        "x.y",
        "db",
        "db1",
        "a-b",
        "prod_db",
        "A",
        "x-y",
        "caf\u{e9}",
    ];
    const PATTERNS: &[&str] = &[
        "{*,c}b",
        "[!]a[re-d[az]*",
        "[!a]*/db",
        "\\d*",
        "{*,c}e,**",
        "{a,x}/d,b",
        "{*,x}/db",
        "a{*,b}",
        "{a*,b}/**",
        "**/{db,x}*",
        "**",
        "a/**",
        "a/*",
        "*/db",
        "**/db*",
        "*/d*",
        "**/a*/db",
        "*/x.*/**",
        "prod/**",
        "Prod/**",
        "a",
        "ab",
        "a/b",
        "a*",
        "a/**/db",
        "{a,b}/**",
        "a/{db,db1}",
        "[ap]*/**",
        "?b/*",
        "*",
        "**/x.y",
        "prod/*/db1",
        "a\\-b/**",
        "a-b",
        "**/a-b/**",
        "x.y/*",
        "a/",
        "x_y/**",
        "prod/db",
        "PROD/**",
        "caf?/**",
        "",
    ];

    fn random_vault(rng: &mut Rng) -> Vault {
        // As in a real vault: one identity per Secret name, in name order.
        let mut ids = std::collections::BTreeMap::new();
        for _ in 0..(rng.next() % 40) {
            let depth = 1 + rng.next() % 3;
            let id: Vec<&str> = (0..depth).map(|_| rng.pick(SEGMENTS)).collect();
            let id = id.join("/");
            ids.entry(crate::vault::names::secret_name(&id))
                .or_insert(id);
        }
        let secrets = ids
            .into_iter()
            .map(|(name, identity)| Secret {
                name,
                identity,
                source: String::new(),
                data: Default::default(),
                shape: Default::default(),
            })
            .collect();
        let users = (0..(rng.next() % 5))
            .map(|u| User {
                name: format!("u{u}"),
                source: String::new(),
                rules: (0..(rng.next() % 8))
                    .map(|line| Rule {
                        allow: !rng.next().is_multiple_of(3),
                        pattern: rng.pick(PATTERNS).to_string(),
                        line: line as usize + 1,
                    })
                    .filter(|r| !r.pattern.is_empty())
                    .collect(),
            })
            .collect();
        Vault {
            secrets,
            users,
            ..Default::default()
        }
    }

    #[test]
    fn fast_evaluation_equals_the_naive_oracle() {
        let mut rng = Rng(42);
        for case in 0..3000 {
            let vault = random_vault(&mut rng);
            assert_eq!(
                evaluate(&vault),
                evaluate_naive(&vault),
                "case {case}: {vault:?}"
            );
        }
    }

    #[test]
    fn deciders_equal_the_deciding_rule() {
        let mut rng = Rng(7);
        for case in 0..1000 {
            let vault = random_vault(&mut rng);
            let got = deciders(&vault);
            for (u, user) in vault.users.iter().enumerate() {
                for (i, s) in vault.secrets.iter().enumerate() {
                    let want = user
                        .rules
                        .iter()
                        .rposition(|r| r.matches(&s.identity))
                        .map_or(0, |p| p as u32 + 1);
                    assert_eq!(got[u][i], want, "case {case}");
                }
            }
        }
    }

    #[test]
    fn literal_prefixes() {
        for (p, want) in [
            ("a/b/**", "a/b/"),
            ("exact", "exact"),
            ("**", ""),
            ("{a,b}", ""),
            ("a\\*b", "a"),
            ("a/[x]", "a/"),
        ] {
            assert_eq!(literal_prefix(p), want);
        }
    }

    #[test]
    fn pattern_pieces() {
        let table: &[(&str, &str, &[&str])] = &[
            ("*/search/worker/*", "search", &["search", "worker"]),
            ("**/smtp-99*", "smtp-99", &[]),
            ("**/tls", "tls", &["tls"]),
            ("{a,bbbb}/x", "", &[]),
            ("a*/b", "a", &["b"]),
            ("[xyz]/long", "", &[]),
            ("*x\\*y/z", "", &[]),
            ("*x?y/z", "x", &["z"]),
            ("exact/path", "exact", &["exact", "path"]),
        ];
        assert_eq!(Pieces::of("**/db-12*").seg_prefixes, ["db-12"]);
        assert_eq!(Pieces::of("a*/b?/c").seg_prefixes, ["a", "b"]);
        for (pattern, longest, segments) in table {
            let p = Pieces::of(pattern);
            assert_eq!(
                (p.longest, p.segments.as_slice()),
                (*longest, *segments),
                "{pattern}"
            );
        }
    }

    #[test]
    fn bit_sets() {
        let mut b = Bits::new(130);
        assert_eq!(b.ones().count(), 0);
        for i in [0, 1, 63, 64, 129] {
            b.set(i);
        }
        b.clear(1);
        assert_eq!(b.ones().collect::<Vec<_>>(), [0, 63, 64, 129]);
    }
}
