//! YAML 1.2.2 conformance of the secret-file reader: the spec's examples that apply to a flat
//! mapping of keys to scalars (separation, chomping, block headers, tags, the byte-order mark,
//! line breaks, quoting), each as a secret file with the values it must give, and a property
//! test comparing the reader with libyaml (`serde_yaml`) on generated files.
//!
//! Examples are numbered as in <https://yaml.org/spec/1.2.2/>; those written as a sequence or a
//! bare scalar in the spec are written here as values of a mapping (continuation lines indented
//! one more space), with the value the spec gives. Every case goes through
//! [`secret_file::parse`], so the fast readers answer where they can (they must agree) and the
//! full parser everywhere else.

use super::secret_file::{self, Parsed};

/// What a case must give: every key with its value, or an error containing the text.
enum Want {
    Values(&'static [(&'static str, &'static str)]),
    Error(&'static str),
}
use Want::{Error, Values};

/// Reads a secret file as kubevault does: its keys and values as text, or its first problem.
fn read(text: &str) -> Result<Vec<(String, String)>, String> {
    match secret_file::parse(text.as_bytes()) {
        Ok(Parsed::Plain(data)) => Ok(data
            .iter()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect()),
        Ok(Parsed::Encrypted(_)) => Err("encrypted".into()),
        Err(problems) => Err(problems
            .iter()
            .map(|p| format!("line {}: {}", p.line, p.message))
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// What libyaml (through `serde_yaml`) reads: the keys and values of a mapping of strings, or
/// `None` when it is not one (a number or boolean included: its text is lost).
fn libyaml(text: &str) -> Option<Vec<(String, String)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let mut out = Vec::new();
    for (k, v) in value.as_mapping()? {
        out.push((k.as_str()?.to_string(), v.as_str()?.to_string()));
    }
    out.sort();
    Some(out)
}

#[rustfmt::skip]
const CASES: &[(&str, &str, Want)] = &[
    // ---- 5.2 the byte-order mark; 5.4 line breaks ----
    ("5.2 BOM, comment only", "\u{feff}# Comment only.\n", Values(&[])),
    ("5.2 BOM before a mapping", "\u{feff}a: v\n", Values(&[("a", "v")])),
    ("5.2 BOM, quoted value", "\u{feff}a: \"v\"\n", Values(&[("a", "v")])),
    ("5.4 CRLF line breaks", "a: v\r\nb: |\r\n  x\r\n  y\r\n", Values(&[("a", "v"), ("b", "x\ny\n")])),
    ("5.4 CR line breaks", "a: v\rb: w\r", Values(&[("a", "v"), ("b", "w")])),
    ("5.4 CRLF in a folded quoted value", "a: \"x\r\n  y\"\r\n", Values(&[("a", "x y")])),
    ("5.4 no final line break", "a: v", Values(&[("a", "v")])),
    ("5.11 LS is not a line break", "a: |\n  Line break (no glyph)\n  Line break (glyphed)\u{2028}\n",
        Values(&[("a", "Line break (no glyph)\nLine break (glyphed)\u{2028}\n")])),
    // ---- 5.12 tabs and spaces; 6.2/6.3 separation ----
    ("5.12 tabs and spaces", "# Tabs and spaces\nquoted: \"Quoted \t\"\nblock:\t|\n  void main() {\n  \tprintf(\"Hello, world!\\n\");\n  }\n",
        Values(&[("block", "void main() {\n\tprintf(\"Hello, world!\\n\");\n}\n"), ("quoted", "Quoted \t")])),
    ("6.3 tab then space after ':'", "foo:\t bar\n", Values(&[("foo", "bar")])),
    ("6.2 tab after ':'", "port:\t5432\n", Values(&[("port", "5432")])),
    ("6.2 tab after ':', then a dash", "a:\t-1\n", Values(&[("a", "-1")])),
    ("6.2 two tabs after ':'", "a:\t\tv\n", Values(&[("a", "v")])),
    ("6.2 tab after ':' in a flow mapping", "{a:\tb}\n", Values(&[("a", "b")])),
    ("6.2 tab after a quoted key's ':'", "\"a\":\tv\n", Values(&[("a", "v")])),
    ("6.2 space before, tab after ':'", "a :\tv\n", Values(&[("a", "v")])),
    ("6.2 tab after an explicit value's ':'", "? a\n:\tv\n", Values(&[("a", "v")])),
    ("6.2 tab after ':' before a quoted value", "a:\t'v'\n", Values(&[("a", "v")])),
    ("6.2 tab before a comment", "a: v\t# c\n", Values(&[("a", "v")])),
    ("6.2 tab before a list entry", "a:\t- x\n", Error("':' must be followed by a valid YAML whitespace")),
    ("6.1 tab as indentation", "a:\n\tb\n", Error("line 2")),
    // ---- 6.4-6.8 line prefixes, empty lines, folding ----
    ("6.4 line prefixes", "plain: text\n  lines\nquoted: \"text\n  \tlines\"\nblock: |\n  text\n   \tlines\n",
        Values(&[("block", "text\n \tlines\n"), ("plain", "text lines"), ("quoted", "text lines")])),
    ("6.5 empty lines", "Folding:\n  \"Empty line\n   \t\n  as a line feed\"\nChomping: |\n  Clipped empty lines\n \n",
        Values(&[("Chomping", "Clipped empty lines\n"), ("Folding", "Empty line\nas a line feed")])),
    ("6.6 line folding", "a: >-\n  trimmed\n  \n \n\n  as\n  space\n", Values(&[("a", "trimmed\n\n\nas space")])),
    ("6.7 block folding", "a: >\n  foo \n \n  \t bar\n\n  baz\n", Values(&[("a", "foo \n\n\t bar\n\nbaz\n")])),
    ("6.8 flow folding", "a: \"\n  foo \n \n  \t bar\n\n  baz\n  \"\n", Values(&[("a", " foo\nbar\nbaz ")])),
    // ---- 6.9-6.11 comments ----
    ("6.9 separated comment", "key:    # Comment\n  value\n", Values(&[("key", "value")])),
    ("6.10 comment lines", "  # Comment\n   \n\n", Values(&[])),
    ("6.11 multi-line comments", "key:    # Comment\n        # lines\n  value\n\n", Values(&[("key", "value")])),
    ("6.9 a comment ends a plain value", "a: v # c\n", Values(&[("a", "v")])),
    ("6.9 '#' without a space is text", "a: v#c\n", Values(&[("a", "v#c")])),
    ("6.9 '#' in quotes is text", "a: \"v #c\"\n", Values(&[("a", "v #c")])),
    // ---- 6.24-6.29 tags ----
    ("6.24 verbatim standard tag", "a: !<tag:yaml.org,2002:str> foo\n", Values(&[("a", "foo")])),
    ("6.24 verbatim tag on the key", "!<tag:yaml.org,2002:str> a: foo\n", Values(&[("a", "foo")])),
    ("6.24 verbatim !!int", "a: !<tag:yaml.org,2002:int> 0012\n", Values(&[("a", "0012")])),
    ("6.24 verbatim !!binary", "a: !<tag:yaml.org,2002:binary> aGk=\n", Values(&[("a", "hi")])),
    ("6.24 verbatim local tag", "a: !<!bar> baz\n", Error("the value starts with `!`")),
    ("6.26 secondary handle", "a: !!str bar\n", Values(&[("a", "bar")])),
    ("6.26 local tag", "a: !local foo\n", Error("the value starts with `!`")),
    ("6.27 undeclared handle", "a: !e!foo bar\n", Error("invalid YAML")),
    ("6.28 non-specific tags", "a: \"12\"\nb: 12\nc: ! 12\n", Values(&[("a", "12"), ("b", "12"), ("c", "12")])),
    ("6.29 %TAG for the standard prefix", "%TAG !y! tag:yaml.org,2002:\n---\na: !y!str v\n", Values(&[("a", "v")])),
    ("6.29 %TAG for another prefix", "%TAG !e! tag:example.com,2000:app/\n---\na: !e!foo v\n", Error("the value starts with `!`")),
    ("2.23 explicit !!str", "not-date: !!str 2002-04-28\n", Values(&[("not-date", "2002-04-28")])),
    ("2.23 !!binary block", "picture: !!binary |\n  R0lG\n  ODlh\n", Values(&[("picture", "GIF89a")])),
    ("7.2 tag with an empty value", "a: !!str\nb: 1\n", Values(&[("a", ""), ("b", "1")])),
    ("7.2 a document that is only a tag", "!x\n", Error("line 1: not a mapping")),
    // ---- 7.x flow scalars ----
    ("5.13 escaped characters", "a: \"Fun with \\\\ \\\" \\a \\b \\e \\f \\n \\r \\t \\v \\0 \\  \\_ \\N \\L \\P \\x41 \\u0041 \\U00000041\"\n",
        Values(&[("a", "Fun with \\ \" \u{7} \u{8} \u{1b} \u{c} \n \r \t \u{b} \0   \u{a0} \u{85} \u{2028} \u{2029} A A A")])),
    ("7.5 double-quoted line breaks", "a: \"folded \n  to a space,\t\n   \n  to a line feed, or \t\\\n   \\ \tnon-content\"\n",
        Values(&[("a", "folded to a space,\nto a line feed, or \t \tnon-content")])),
    ("7.6 double-quoted lines", "a: \" 1st non-empty\n\n  2nd non-empty \n \t3rd non-empty \"\n",
        Values(&[("a", " 1st non-empty\n2nd non-empty 3rd non-empty ")])),
    ("7.7 single-quoted characters", "a: 'here''s to \"quotes\"'\n", Values(&[("a", "here's to \"quotes\"")])),
    ("7.9 single-quoted lines", "a: ' 1st non-empty\n\n  2nd non-empty \n \t3rd non-empty '\n",
        Values(&[("a", " 1st non-empty\n2nd non-empty 3rd non-empty ")])),
    ("7.12 plain lines", "a: 1st non-empty\n\n  2nd non-empty \n \t3rd non-empty\n",
        Values(&[("a", "1st non-empty\n2nd non-empty 3rd non-empty")])),
    ("2.19 plain numbers are text", "a: 0o14\nb: 0x_1\nc: 1.10\nd: 0123\n", Values(&[("a", "0o14"), ("b", "0x_1"), ("c", "1.10"), ("d", "0123")])),
    // ---- 8.1-8.3 block scalar headers ----
    ("8.1 empty header, comment", "a: | # Empty header\n literal\n", Values(&[("a", "literal\n")])),
    ("8.1 indentation indicator", "a: >1 # Indentation indicator\n  folded\n", Values(&[("a", " folded\n")])),
    ("8.1 chomping indicator", "a: |+ # Chomping indicator\n keep\n\nb: x\n", Values(&[("a", "keep\n\n"), ("b", "x")])),
    ("8.1 both indicators", "a: >1- # Both indicators\n  strip\n", Values(&[("a", " strip")])),
    ("8.1 indicators the other way round", "a: >-1\n  strip\n", Values(&[("a", " strip")])),
    ("8.2 detected indentation", "a: |\n detected\n", Values(&[("a", "detected\n")])),
    ("8.2 leading empty lines", "a: >\n \n  \n  # detected\n", Values(&[("a", "\n\n# detected\n")])),
    ("8.2 explicit indentation", "a: |1\n  explicit\n", Values(&[("a", " explicit\n")])),
    ("8.2 tab in content", "a: >\n \t\n detected\n", Values(&[("a", "\t\ndetected\n")])),
    ("8.3 leading line more indented", "a: |\n  \n text\n", Error("invalid YAML")),
    ("8.3 zero indentation indicator", "a: |0\n  x\n", Error("indentation indicator")),
    // ---- 8.4-8.6 chomping ----
    ("8.4 chomping final line break", "strip: |-\n  text\nclip: |\n  text\nkeep: |+\n  text\n",
        Values(&[("clip", "text\n"), ("keep", "text\n"), ("strip", "text")])),
    ("8.5 chomping trailing lines", " # Strip\n  # Comments:\nstrip: |-\n  # text\n  \n # Clip\n  # comments:\n\nclip: |\n  # text\n \n # Keep\n  # comments:\n\nkeep: |+\n  # text\n\n # Trail\n  # comments.\n",
        Values(&[("clip", "# text\n"), ("keep", "# text\n\n"), ("strip", "# text")])),
    ("8.6 empty scalar chomping", "strip: >-\n\nclip: >\n\nkeep: |+\n\n", Values(&[("clip", ""), ("keep", "\n"), ("strip", "")])),
    ("8.6 empty literal at the end", "a: |\n", Values(&[("a", "")])),
    ("8.6 empty folded at the end", "a: >\n", Values(&[("a", "")])),
    ("8.6 empty keep literal at the end", "a: |+\n", Values(&[("a", "")])),
    ("8.6 empty keep folded at the end", "a: >+\n", Values(&[("a", "")])),
    ("8.6 empty strip literal at the end", "a: |-\n", Values(&[("a", "")])),
    ("8.6 empty indented literal at the end", "a: |2\n", Values(&[("a", "")])),
    ("8.6 empty literal, header comment", "a: | # c\n", Values(&[("a", "")])),
    ("8.6 empty literal, space-only lines", "a: |\n  \n   \n", Values(&[("a", "")])),
    ("8.6 empty keep literal, space-only lines", "a: |+\n  \n   \n", Values(&[("a", "\n\n")])),
    ("8.6 empty literal, no final line break", "a: |", Values(&[("a", "")])),
    ("8.6 empty literal before a key", "a: |\nb: 1\n", Values(&[("a", ""), ("b", "1")])),
    // ---- 8.7-8.10 literal and folded content ----
    ("8.7 literal scalar", "a: |\n literal\n \ttext\n\n", Values(&[("a", "literal\n\ttext\n")])),
    ("8.8 literal content", "a: |\n \n  \n  literal\n   \n  \n  text\n\n # Comment\n",
        Values(&[("a", "\n\nliteral\n \n\ntext\n")])),
    ("8.9 folded scalar", "a: >\n folded\n text\n\n", Values(&[("a", "folded text\n")])),
    ("8.10 folded lines", "a: >\n\n folded\n line\n\n next\n line\n   * bullet\n\n   * list\n   * lines\n\n last\n line\n\n# Comment\n",
        Values(&[("a", "\nfolded line\nnext line\n  * bullet\n\n  * list\n  * lines\n\nlast line\n")])),
    // ---- [165] b-chomped-last: the last line without a line break ----
    ("165 literal ends the file", "a: |\n  x", Values(&[("a", "x")])),
    ("165 keep literal ends the file", "a: |+\n  x", Values(&[("a", "x")])),
    ("165 strip literal ends the file", "a: |-\n  x", Values(&[("a", "x")])),
    ("165 folded ends the file", "a: >\n  x\n  y", Values(&[("a", "x y")])),
    ("165 literal ends on a space-only line", "a: |\n  x\n  ", Values(&[("a", "x\n")])),
    ("165 keep literal ends on an empty line", "a: |+\n  x\n\n  ", Values(&[("a", "x\n\n")])),
    // ---- flat-mapping rules of the SPEC on top of YAML ----
    ("2.x nested mapping", "a:\n  b: c\n", Error("value is a mapping")),
    ("2.x sequence", "a: [1]\n", Error("value is a sequence")),
    ("2.x duplicate key", "a: 1\na: 2\n", Error("duplicate key")),
    ("9.2 two documents", "a: 1\n---\nb: 2\n", Error("more than one YAML document")),
    ("9.2 document end marker", "a: 1\n...\n", Values(&[("a", "1")])),
];

#[test]
fn yaml_1_2_2_examples() {
    let mut failures = Vec::new();
    for (name, text, want) in CASES {
        let got = read(text);
        let ok = match (want, &got) {
            (Values(want), Ok(got)) => {
                let mut want: Vec<(String, String)> = want
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                want.sort();
                *got == want
            }
            (Error(needle), Err(message)) => message.contains(needle),
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: {text:?}\n  got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where libyaml reads a case as strings, it reads the same values (a second, independent
/// reading of the table). Listed: cases where libyaml, a YAML 1.1 parser, reads otherwise.
#[test]
fn libyaml_agrees_with_the_table() {
    let libyaml_differs = [
        "6.2 tab after an explicit value's ':'", // libyaml refuses the tab
        "5.11 LS is not a line break",           // YAML 1.1 breaks lines at LS
        "6.24 verbatim !!binary",                // serde_yaml keeps base64 text
        "2.23 !!binary block",
    ];
    for (name, text, want) in CASES {
        let (Values(_), Some(theirs)) = (want, libyaml(text)) else {
            continue;
        };
        if libyaml_differs.contains(name) {
            continue;
        }
        if let Ok(ours) = read(text) {
            assert_eq!(ours, theirs, "{name}: {text:?}");
        }
    }
}

/// A generated secret file for the property test: its text and, per key, whether libyaml must
/// read the value as this exact string (quoted and block values) or only as some scalar (plain
/// values, which libyaml may resolve to a number or boolean).
mod generated {
    use proptest::prelude::*;

    /// One value as written in the file, and the text it stands for when that is known.
    #[derive(Clone, Debug)]
    pub struct Value {
        pub source: String,
        /// Whether the value is a block scalar (its comment goes on the header line).
        pub block: bool,
    }

    fn double_quoted() -> impl Strategy<Value = Value> {
        let pieces = prop::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9 ]{1,6}",
                Just("\"".to_string()),
                Just("\\".to_string()),
                Just("\t".to_string()),
                Just("\n".to_string()),
                Just("é".to_string()),
                Just("# ".to_string()),
                Just(": ".to_string()),
                Just("'".to_string()),
                Just("\u{1}".to_string()),
            ],
            0..8,
        );
        (pieces, any::<bool>()).prop_map(|(pieces, fold)| {
            let text: String = pieces.concat();
            let mut source = String::from("\"");
            let chars: Vec<char> = text.chars().collect();
            for (i, &c) in chars.iter().enumerate() {
                let around_blank = |j: Option<&char>| j.is_none_or(|c| c.is_whitespace());
                match c {
                    '"' => source.push_str("\\\""),
                    '\\' => source.push_str("\\\\"),
                    '\t' => source.push_str("\\t"),
                    // A line break as an empty line of a folded quoted scalar, or escaped.
                    '\n' if fold
                        && i > 0
                        && !around_blank(chars.get(i - 1))
                        && !around_blank(chars.get(i + 1)) =>
                    {
                        source.push_str("\n\n  ")
                    }
                    '\n' => source.push_str("\\n"),
                    c if (c as u32) < 0x20 => source.push_str(&format!("\\x{:02x}", c as u32)),
                    c => source.push(c),
                }
            }
            source.push('"');
            Value {
                source,
                block: false,
            }
        })
    }

    fn single_quoted() -> impl Strategy<Value = Value> {
        "[a-zA-Z0-9 #:\"\\\\!&*|>é-]{0,12}".prop_map(|text| Value {
            source: format!("'{}'", text.replace('\'', "''")),
            block: false,
        })
    }

    fn plain() -> impl Strategy<Value = Value> {
        "[a-zA-Z_/.=+][a-zA-Z0-9_./=+#:-]{0,10}( [a-zA-Z0-9_./=+-]{1,6}){0,2}".prop_map(|text| {
            Value {
                source: text,
                block: false,
            }
        })
    }

    fn block() -> impl Strategy<Value = Value> {
        let lines = prop::collection::vec(
            prop_oneof![
                Just("text"),
                Just("more text"),
                Just("  more indented"),
                Just("# not a comment"),
                Just("x: y"),
                Just("- z"),
                Just(""),
                Just("tab\there"),
                Just("trailing space "),
            ],
            0..6,
        );
        (
            prop_oneof![Just("|"), Just(">")],
            prop_oneof![Just(""), Just("-"), Just("+")],
            any::<bool>(),
            prop_oneof![Just(""), Just(" # header comment")],
            lines,
            0..3usize,
        )
            .prop_map(|(style, chomp, explicit, comment, lines, trailing)| {
                // An indentation indicator is needed when the first content line starts with a
                // space; use it now and then anyway.
                let first_indented = lines
                    .iter()
                    .find(|l| !l.is_empty())
                    .is_some_and(|l| l.starts_with(' '));
                let indicator = if explicit || first_indented { "2" } else { "" };
                let mut source = format!("{style}{indicator}{chomp}{comment}\n");
                for l in &lines {
                    if !l.is_empty() {
                        source.push_str("  ");
                        source.push_str(l);
                    }
                    source.push('\n');
                }
                for _ in 0..trailing {
                    source.push('\n');
                }
                // The entry adds the final line break.
                source.pop();
                Value {
                    source,
                    block: true,
                }
            })
    }

    /// A value in any style.
    pub fn value() -> impl Strategy<Value = Value> {
        prop_oneof![plain(), double_quoted(), single_quoted(), block()]
    }

    /// A whole file: entries with separators, comments and blank lines between them, and now
    /// and then a byte-order mark, CRLF line breaks or no final line break.
    pub fn file() -> impl Strategy<Value = String> {
        let entry = (
            value(),
            prop_oneof![
                Just(": "),
                Just(":  "),
                Just(":\t"),
                Just(": \t"),
                Just(":\t ")
            ],
            prop_oneof![
                Just(""),
                Just(" # comment"),
                Just("  #comment"),
                Just("\t# c")
            ],
            prop_oneof![
                Just(""),
                Just(""),
                Just("# between\n"),
                Just("\n"),
                Just("  # x\n")
            ],
        );
        (
            prop::collection::vec(entry, 0..6),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(entries, bom, crlf, no_final_break)| {
                let mut text = String::new();
                if bom {
                    text.push('\u{feff}');
                }
                for (i, (value, sep, comment, between)) in entries.iter().enumerate() {
                    text.push_str(&format!("k{i}{sep}{}", value.source));
                    if !value.block && !value.source.contains('\n') {
                        text.push_str(comment);
                    }
                    text.push('\n');
                    text.push_str(between);
                }
                if no_final_break && text.ends_with('\n') && !text.ends_with("\n\n") {
                    text.pop();
                }
                if crlf {
                    text = text.replace('\n', "\r\n");
                }
                text
            })
    }
}

/// What libyaml reads: each key with its value when it is a string (`None` for a number,
/// boolean or null, whose text libyaml does not keep), or `None` when it is not a mapping of
/// scalars.
fn libyaml_scalars(text: &str) -> Option<Vec<(String, Option<String>)>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: serde_yaml::Value = serde_yaml::from_str(text).ok()?;
    let mut out = Vec::new();
    match value {
        serde_yaml::Value::Null => {}
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                let k = k.as_str()?.to_string();
                let v = match v {
                    serde_yaml::Value::String(s) => Some(s),
                    serde_yaml::Value::Null
                    | serde_yaml::Value::Bool(_)
                    | serde_yaml::Value::Number(_) => None,
                    _ => return None,
                };
                out.push((k, v));
            }
        }
        _ => return None,
    }
    out.sort();
    Some(out)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    /// The secret-file reader and libyaml read generated files alike: the same keys (structure),
    /// and the same text for every value libyaml keeps as a string (quoted and block values
    /// always, and plain values it does not resolve to a number or boolean).
    #[test]
    fn the_reader_agrees_with_libyaml(text in generated::file()) {
        let theirs = libyaml_scalars(&text);
        proptest::prop_assume!(theirs.is_some());
        let theirs = theirs.unwrap_or_default();
        let ours = read(&text);
        proptest::prop_assert!(ours.is_ok(), "{:?}: {:?}", text, ours);
        let ours = ours.unwrap_or_default();
        let keys = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        proptest::prop_assert_eq!(
            keys(&ours),
            theirs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            "{:?}", text
        );
        for ((key, mine), (_, libyaml)) in ours.iter().zip(&theirs) {
            if let Some(libyaml) = libyaml {
                proptest::prop_assert_eq!(mine, libyaml, "key {} of {:?}", key, text);
            }
        }
    }
}
