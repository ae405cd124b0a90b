//! Spellings of a Secret name: many identities (`prod/db`, `Prod/db`, `prod_db`, `prod.db`,
//! `prod-db`) map to one Secret name (`prod-db`), and a Role grants names, not paths.
//!
//! [`canonical`] is the one spelling kubevault recommends for an identity (lowercase, only
//! `a-z`, `0-9`, `-` and `/`). [`SpelledGlob`] answers whether a rule pattern matches *some*
//! spelling of a Secret name: deny rules use it, so that renaming a file never escapes a deny.
//! It reads the pattern as glob-match does and the name as every identity [`secret_name`]
//! maps to it: a letter is that letter in either case, a digit itself, and a `-` any ASCII
//! character other than a letter or digit (`/` included) or any non-ASCII character (one to
//! four bytes; glob-match matches bytes). `*` and `?` may consume any byte here: the `/` they
//! never match in glob-match only ever spells a `-`, which `-` itself spells too, so nothing is
//! lost. It may answer yes for a spelling glob-match would not match (a non-ASCII character is
//! any 2 to 4 bytes ≥ 0x80, and a class with a non-ASCII character matches every such byte); it
//! never answers no when some spelling matches (`no_spelling_escapes` below checks it).
//!
//! [`secret_name`]: super::names::secret_name

use std::collections::HashSet;

use glob_match::glob_match;

/// The canonical spelling of an identity: ASCII letters lowercased, every character other than
/// `a-z`, `0-9`, `-` and `/` replaced by `-`. It has the same Secret name as `identity`.
///
/// ```
/// assert_eq!(kubevault::vault::spelling::canonical("Prod/DB_main.v2"), "prod/db-main-v2");
/// ```
pub fn canonical(identity: &str) -> String {
    identity
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '/') => c,
            _ => '-',
        })
        .collect()
}

/// A set of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bytes([u64; 4]);

impl Bytes {
    const NONE: Bytes = Bytes([0; 4]);
    const ALL: Bytes = Bytes([u64::MAX; 4]);
    fn one(b: u8) -> Bytes {
        let mut s = Bytes::NONE;
        s.add(b);
        s
    }
    fn add(&mut self, b: u8) {
        self.0[b as usize / 64] |= 1 << (b % 64);
    }
    fn has(&self, b: u8) -> bool {
        self.0[b as usize / 64] & (1 << (b % 64)) != 0
    }
    /// Any byte of 0x80..=0xFF (part of a non-ASCII character).
    fn any_high(&self) -> bool {
        self.0[2] | self.0[3] != 0
    }
    /// Any ASCII byte that is not a letter or digit (a spelling of `-`).
    fn any_ascii_separator(&self) -> bool {
        (0u8..0x80).any(|b| !b.is_ascii_alphanumeric() && self.has(b))
    }
}

/// One instruction of the compiled pattern.
#[derive(Clone, Debug)]
enum Op {
    /// Consume one byte of the set.
    Byte(Bytes),
    /// Continue at both.
    Split(usize, usize),
    /// Continue there.
    Jump(usize),
    /// The pattern matched if the name is consumed.
    Done,
}

/// A rule pattern compiled to match spellings of Secret names.
#[derive(Clone, Debug)]
pub struct SpelledGlob {
    ops: Vec<Op>,
}

impl SpelledGlob {
    /// Compiles a pattern that [`super::rules::check_pattern`] accepted (others compile too, to
    /// some reading of them).
    pub fn new(pattern: &str) -> SpelledGlob {
        let mut ops = Vec::new();
        let bytes = pattern.as_bytes();
        let mut at = 0;
        compile_seq(bytes, &mut at, &mut ops, false);
        ops.push(Op::Done);
        SpelledGlob { ops }
    }

    /// True when some spelling of the Secret name `name` (ASCII `a-z0-9-`) matches the pattern.
    pub fn matches(&self, name: &str) -> bool {
        let name = name.as_bytes();
        let n = name.len();
        // States: (op, name position, bytes of the current non-ASCII character consumed, 0-3),
        // each visited once; only the states reached are stored, so the work is bounded by
        // ops × (name length + 1) × 4 but usually far less (a literal that does not fit ends a
        // path at once).
        let mut seen: HashSet<(usize, usize, usize)> = HashSet::new();
        let mut stack = vec![(0usize, 0usize, 0usize)];
        while let Some((pc, i, k)) = stack.pop() {
            if !seen.insert((pc, i, k)) {
                continue;
            }
            match &self.ops[pc] {
                Op::Done => {
                    if i == n && k == 0 {
                        return true;
                    }
                }
                Op::Jump(to) => stack.push((*to, i, k)),
                Op::Split(a, b) => {
                    stack.push((*b, i, k));
                    stack.push((*a, i, k));
                }
                Op::Byte(set) => {
                    if k > 0 {
                        // Inside a non-ASCII character: it may end here (2 to 4 bytes) or go on.
                        if set.any_high() {
                            stack.push((pc + 1, i + 1, 0));
                            if k < 3 {
                                stack.push((pc + 1, i, k + 1));
                            }
                        }
                        continue;
                    }
                    let Some(&c) = name.get(i) else { continue };
                    if c == b'-' {
                        if set.any_ascii_separator() {
                            stack.push((pc + 1, i + 1, 0));
                        }
                        if set.any_high() {
                            stack.push((pc + 1, i, 1));
                        }
                    } else if set.has(c) || set.has(c.to_ascii_uppercase()) {
                        stack.push((pc + 1, i + 1, 0));
                    }
                }
            }
        }
        false
    }
}

/// Compiles a sequence up to the end of the pattern or, inside `{...}`, up to its `,` or `}`
/// (left unconsumed).
fn compile_seq(p: &[u8], at: &mut usize, ops: &mut Vec<Op>, in_braces: bool) {
    while *at < p.len() {
        let c = p[*at];
        match c {
            b',' | b'}' if in_braces => return,
            b'\\' => {
                *at += 1;
                if *at < p.len() {
                    literal_char(p, at, ops);
                }
            }
            b'*' => {
                let double = p.get(*at + 1) == Some(&b'*');
                *at += if double { 2 } else { 1 };
                if double && p.get(*at) == Some(&b'/') {
                    // `**/` matches nothing, or anything ending in `/`.
                    *at += 1;
                    let split = ops.len();
                    ops.push(Op::Split(split + 1, usize::MAX));
                    star(ops);
                    ops.push(Op::Byte(Bytes::one(b'/')));
                    let end = ops.len();
                    ops[split] = Op::Split(split + 1, end);
                } else {
                    star(ops);
                }
            }
            b'?' => {
                *at += 1;
                ops.push(Op::Byte(Bytes::ALL));
            }
            b'[' => class(p, at, ops),
            b'{' => {
                *at += 1;
                alternatives(p, at, ops);
            }
            _ => literal_char(p, at, ops),
        }
    }
}

/// Any run of bytes.
fn star(ops: &mut Vec<Op>) {
    let split = ops.len();
    ops.push(Op::Split(split + 1, split + 3));
    ops.push(Op::Byte(Bytes::ALL));
    ops.push(Op::Jump(split));
}

/// The bytes of one character, literally.
fn literal_char(p: &[u8], at: &mut usize, ops: &mut Vec<Op>) {
    let len = match p[*at] {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    };
    for &b in &p[*at..(*at + len).min(p.len())] {
        ops.push(Op::Byte(Bytes::one(b)));
    }
    *at += len;
}

/// `[...]`: one byte the class matches (ASCII bytes as glob-match tests them; any non-ASCII
/// byte when the class holds a non-ASCII character).
fn class(p: &[u8], at: &mut usize, ops: &mut Vec<Op>) {
    let start = *at;
    let mut end = start + 1;
    while end < p.len() && p[end] != b']' {
        end += if p[end] == b'\\' { 2 } else { 1 };
    }
    let end = end.min(p.len().saturating_sub(1));
    let Ok(text) = std::str::from_utf8(&p[start..=end]) else {
        *at = end + 1;
        ops.push(Op::Byte(Bytes::ALL));
        return;
    };
    let mut set = Bytes::NONE;
    for b in 0u8..0x80 {
        if glob_match(text, &(b as char).to_string()) {
            set.add(b);
        }
    }
    if !text.is_ascii() {
        for b in 0x80..=0xFF {
            set.add(b);
        }
    }
    ops.push(Op::Byte(set));
    *at = end + 1;
}

/// `{a,b,...}` after its `{`: any one alternative.
fn alternatives(p: &[u8], at: &mut usize, ops: &mut Vec<Op>) {
    let mut jumps = Vec::new();
    loop {
        let split = ops.len();
        ops.push(Op::Split(split + 1, usize::MAX));
        compile_seq(p, at, ops, true);
        jumps.push(ops.len());
        ops.push(Op::Jump(usize::MAX));
        let next = ops.len();
        ops[split] = Op::Split(split + 1, next);
        match p.get(*at) {
            Some(b',') => *at += 1,
            Some(b'}') => {
                *at += 1;
                break;
            }
            _ => break,
        }
    }
    // After the last alternative nothing else matches: the fall-through split goes nowhere.
    let fail = ops.len();
    ops.push(Op::Byte(Bytes::NONE));
    let end = ops.len();
    for j in jumps {
        ops[j] = Op::Jump(end);
    }
    debug_assert!(fail < end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::names::secret_name;
    use crate::vault::test_rng::Rng;

    #[test]
    fn canonical_spellings() {
        for (identity, want) in [
            ("prod/db", "prod/db"),
            ("Prod/db", "prod/db"),
            ("prod_db", "prod-db"),
            ("prod.db", "prod-db"),
            ("caf\u{e9}/x", "caf-/x"),
            ("a b", "a-b"),
        ] {
            assert_eq!(canonical(identity), want, "{identity}");
            assert_eq!(secret_name(&canonical(identity)), secret_name(identity));
        }
    }

    /// (pattern, Secret name, some spelling matches)
    #[test]
    fn spelled_matches() {
        let table: &[(&str, &str, bool)] = &[
            ("prod/**", "prod-db", true),
            ("prod/**", "prod-a-b", true),
            ("prod/**", "prod", false),
            ("prod/**", "production-db", false),
            ("prod/*", "prod-db", true),
            ("Prod/db", "prod-db", true),
            ("prod/db", "prod-db", true),
            ("prod/db", "prod-db2", false),
            ("**/db", "db", true),
            ("**/db", "x-y-db", true),
            ("**/db", "xdb", false),
            ("a/**/b", "a-b", true),
            ("a/**/b", "a-x-b", true),
            ("a/**/b", "ab", false),
            ("{prod,staging}/db", "staging-db", true),
            ("{prod,staging}/db", "dev-db", false),
            ("app/{db,{cache,queue}}", "app-queue", true),
            ("app/db[0-9]", "app-db7", true),
            ("app/db[0-9]", "app-dbx", false),
            ("app/[A-Z]b", "app-db", true),
            ("app/[_]b", "app--b", true),
            ("app/[_]b", "app-xb", false),
            ("caf\u{e9}/x", "caf--x", true),
            ("caf??/x", "caf--x", true),
            ("caf?/x", "caf--x", true),
            ("a\\*b", "a-b", true),
            ("a\\*b", "axb", false),
            ("?", "a", true),
            ("?", "", false),
            ("**", "anything-at-all", true),
        ];
        for (pattern, name, want) in table {
            assert_eq!(
                SpelledGlob::new(pattern).matches(name),
                *want,
                "{pattern} ~ {name}"
            );
        }
    }

    const PIECES: &[&str] = &[
        "a", "A", "b", "db", "Db", "/", "-", "_", ".", "\u{e9}", "\u{65e5}", "1", "*", "**", "?",
        "**/", "/**", "[a-c]", "[_.]", "[0-9]", "{a,b}", "{db,x/y}", "\\*",
    ];
    const CHARS: &[&str] = &[
        "a", "A", "b", "B", "d", "D", "/", "-", "_", ".", " ", "\u{e9}", "\u{65e5}", "1", "*",
    ];

    /// No spelling escapes: whenever glob-match matches an identity, the spelled glob matches
    /// its Secret name.
    #[test]
    fn no_spelling_escapes() {
        let mut rng = Rng(13);
        for case in 0..20_000 {
            let pattern: String = (0..1 + rng.next() % 5).map(|_| rng.pick(PIECES)).collect();
            if crate::vault::rules::check_pattern(&pattern).is_err() {
                continue;
            }
            let glob = SpelledGlob::new(&pattern);
            for _ in 0..20 {
                let id: String = (0..1 + rng.next() % 6).map(|_| rng.pick(CHARS)).collect();
                if glob_match(&pattern, &id) {
                    assert!(
                        glob.matches(&secret_name(&id)),
                        "case {case}: {pattern:?} matches {id:?} but not its name {:?}",
                        secret_name(&id)
                    );
                }
            }
        }
    }
}
