//! A fast path for the common secret file: flat `key: value` lines with plain values.
//!
//! Most secret files are a handful of `key: value` lines. Running them through the full YAML
//! parser dominates the cost of rendering a large vault, so [`parse`] reads that subset directly
//! and returns `None` for anything else: quotes, block scalars, flow collections, anchors, tags,
//! comments after a value, indentation, tabs, CRLF, document markers, invalid or duplicate keys.
//! `None` means "ask the full parser", which then also produces every error message. Within the
//! subset the result is exactly the full parser's (checked by a property test against it).

use super::secret_file::{SecretData, SecretValue, check_key};
use crate::limits::{MAX_KEYS_PER_SECRET, MAX_SECRET_BYTES};

/// Parses a flat secret file, or `None` when the file is outside the simple subset (or breaks
/// any rule or limit: the full parser then reports it).
pub fn parse(text: &str) -> Option<SecretData> {
    // Printable ASCII and newlines only (comments included): anything else is for the full parser,
    // which rejects control characters and knows every Unicode rule.
    if !text
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b))
    {
        return None;
    }
    let mut data = SecretData::new();
    let mut total = 0usize;
    for line in text.split('\n') {
        if line.bytes().all(|b| b == b' ') || line.starts_with('#') {
            continue;
        }
        let (key, value) = split_line(line)?;
        check_key(key).ok()?;
        total += key.len() + value.len();
        if total > MAX_SECRET_BYTES || data.len() >= MAX_KEYS_PER_SECRET || data.contains_key(key) {
            return None;
        }
        data.insert(key.to_string(), SecretValue(value.as_bytes().to_vec()));
    }
    data.shrink_to_fit();
    Some(data)
}

/// `key: value` or a bare `key:`, with a key and value that YAML reads exactly as written.
fn split_line(line: &str) -> Option<(&str, &str)> {
    let colon = line.find(':')?;
    let (key, rest) = (&line[..colon], &line[colon + 1..]);
    let key_ok = key.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !key_ok {
        return None;
    }
    if rest.is_empty() {
        return Some((key, ""));
    }
    let value = rest.strip_prefix(' ')?.trim_start_matches(' ');
    plain_value(value).then_some((key, value))
}

/// True for a non-empty plain scalar of printable ASCII that YAML reads back as the same text in
/// a block mapping: no indicator first, no `: ` or ` #` inside, no trailing space or colon.
fn plain_value(v: &str) -> bool {
    let Some(first) = v.bytes().next() else {
        return false;
    };
    let first_ok = first.is_ascii_alphanumeric()
        || matches!(
            first,
            b'_' | b'/' | b'+' | b'.' | b'=' | b'(' | b'~' | b'$' | b'^' | b';' | b'<' | b'\\'
        )
        || (first == b'-'
            && v.as_bytes()
                .get(1)
                .is_some_and(|b| b.is_ascii_alphanumeric()));
    first_ok
        && v.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !v.ends_with([' ', ':'])
        && !v.contains(": ")
        && !v.contains(" #")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::secret_file::{self, Parsed};

    fn full(text: &str) -> Option<SecretData> {
        match secret_file::parse_full(text) {
            Ok(Parsed::Plain(data)) => Some(data),
            _ => None,
        }
    }

    #[test]
    fn the_common_file_takes_the_fast_path() {
        let text = "# db\nhost: db.local\nport: 5432\npin: 0123\nv: 1.10\non: true\nbare:\nt: ~\nurl: https://x/y?a=b\n\n";
        let fast = parse(text).expect("simple");
        assert_eq!(Some(&fast), full(text).as_ref());
        assert_eq!(fast["pin"].0, b"0123");
        assert_eq!(fast["bare"].0, b"");
    }

    #[test]
    fn anything_unusual_goes_to_the_full_parser() {
        for text in [
            "a: 'q'\n",
            "a: \"q\"\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a: [1]\n",
            "a: {b: c}\n",
            "a: &x v\n",
            "a: *x\n",
            "a: !!binary aGk=\n",
            "a: v # c\n",
            "a:\n  b: c\n",
            "a: v\nb:\tx\n",
            "a: v\r\n",
            "---\na: v\n",
            "a: 1\na: 2\n",
            "- a\n",
            "a:b\n",
            "bad key: v\n",
            "..x: v\n",
            "a: x: y\n",
            "a: v \n",
            "a: - x\n",
            "a: ?x\n",
            "a: @x\n",
            "a: %x\n",
            "a: café\n",
            "<<: x\n",
            " a: v\n",
            "a: v\n  continued\n",
            "\u{feff}a: v\n",
            "a: ,x\n",
            "a: v:\n",
            "a: `x`\n",
        ] {
            assert!(
                parse(text).is_none(),
                "{text:?} should take the full parser"
            );
        }
    }

    use crate::vault::test_rng::Rng;

    #[test]
    fn fast_path_equals_the_full_parser() {
        let keys = [
            "a", "b", "port", "tls.crt", "_x", "A-1", "null", "true", "1", "on", "a b", "-k", ".k",
        ];
        let values = [
            "",
            " v",
            " 5432",
            " 0123",
            " 1.10",
            " ~",
            " null",
            " true",
            " -5",
            " -x",
            " - x",
            " .5",
            " a:b",
            " a: b",
            " a #b",
            " a#b",
            " =x",
            " (x)",
            " $HOME",
            " ^x",
            " ;x",
            " <x>",
            " \\x",
            " x,y",
            " [x]",
            " {x}",
            " 'x'",
            " x'",
            " x\"y",
            " ~x",
            " 0x1F",
            " 1e3",
            " 2024-01-02",
            " 12:30",
            " +1",
            " /p/a",
            " v ",
            " v:",
            "  two spaces",
            " ?",
            " :x",
        ];
        let mut rng = Rng(7);
        let mut fast_hits = 0;
        for case in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(rng.next() % 5) {
                match rng.next() % 8 {
                    0 => text.push_str("# comment\n"),
                    1 => text.push('\n'),
                    _ => {
                        text.push_str(rng.pick(&keys));
                        text.push(':');
                        text.push_str(rng.pick(&values));
                        text.push('\n');
                    }
                }
            }
            if let Some(fast) = parse(&text) {
                fast_hits += 1;
                assert_eq!(Some(fast), full(&text), "case {case}: {text:?}");
            }
        }
        assert!(
            fast_hits > 2_000,
            "the generator should exercise the fast path ({fast_hits})"
        );
    }
}
