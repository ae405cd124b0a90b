//! Writing SOPS files: a decrypted *view* of a file that commands change, and the encryption of a
//! view back into the file with the fewest changed bytes.
//!
//! [`Opened::open`] reads a file. A plaintext file is its own view. An encrypted file is decrypted
//! (MAC verified) into a view where every encrypted value is its plaintext scalar and every
//! encrypted comment its text, and `sops:` is gone; each original entry and comment is remembered
//! with its view text. [`Opened::write`] encrypts the view again: an entry or comment whose view
//! text did not change gets its original bytes back (the same `ENC[...]`), a changed or new value
//! is sealed with a fresh IV under the file's data key and its key path, values that the file's
//! rules leave in clear stay as written, and the MAC and `lastmodified` are computed anew. The
//! `sops:` block keeps every field it had; only `lastmodified`, `mac` and, when recipients change,
//! `age` are rewritten, in the layout sops 3.11 writes.
//!
//! The MAC is computed by the same walker that verifies it on decryption, over the text about to
//! be written, so writer and reader cannot disagree. Nothing here formats a value.

use std::collections::{HashMap, VecDeque};

use base64::Engine;
use zeroize::Zeroizing;

use super::document::{DocError, Document, Entry, Piece, parse_tree};
use super::format::{self, KEY_LEN};
use super::keys::AgeStanza;
use super::metadata::{Metadata, Rules};
use super::seal::{new_data_key, seal, wrap_data_key};
use super::tree::Walker;
use super::{Identities, SopsError};
use crate::sops::creation::Selector;
use crate::yaml::{Node, Value};

/// The sops version kubevault writes into new files (the format it follows).
pub const SOPS_VERSION: &str = "3.11.0";

/// The order sops writes `sops:` fields in.
const FIELD_ORDER: [&str; 17] = [
    "shamir_threshold",
    "key_groups",
    "kms",
    "gcp_kms",
    "hckms",
    "azure_kv",
    "hc_vault",
    "age",
    "lastmodified",
    "mac",
    "pgp",
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "mac_only_encrypted",
    "version",
];

/// How a new file is encrypted: what a creation rule says.
#[derive(Clone, Debug)]
pub struct Encryption {
    /// The age recipients.
    pub recipients: Vec<String>,
    /// Which values are encrypted.
    pub selector: Selector,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
}

/// An error of the writer: a SOPS problem or a document problem. Never holds a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// Decryption, metadata or key problems.
    Sops(SopsError),
    /// The text is not a secret file the writer can change.
    Document {
        /// 1-based line, 0 when unknown.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Sops(e) => write!(f, "{e}"),
            WriteError::Document { line: 0, message } => write!(f, "{message}"),
            WriteError::Document { line, message } => write!(f, "line {line}: {message}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<SopsError> for WriteError {
    fn from(e: SopsError) -> Self {
        WriteError::Sops(e)
    }
}

impl From<DocError> for WriteError {
    fn from(e: DocError) -> Self {
        WriteError::Document {
            line: e.line,
            message: e.message,
        }
    }
}

/// The `sops:` block as fields, each with its full text (name line and deeper lines).
#[derive(Clone)]
struct Block {
    indent: String,
    fields: Vec<(String, String)>,
}

impl Block {
    fn parse(body: &str) -> Block {
        let mut indent = None;
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in body.split_inclusive('\n').skip(1) {
            let content = line.trim_end_matches(['\n', '\r']);
            let spaces = content.len() - content.trim_start_matches(' ').len();
            if content.trim().is_empty() {
                if let Some((_, text)) = fields.last_mut() {
                    text.push_str(line);
                }
                continue;
            }
            let indent = indent.get_or_insert(spaces);
            let name = content[spaces..].split(':').next().unwrap_or("");
            if spaces == *indent && !name.starts_with(['-', '#']) {
                fields.push((name.to_string(), line.to_string()));
            } else if let Some((_, text)) = fields.last_mut() {
                text.push_str(line);
            }
        }
        Block {
            indent: " ".repeat(indent.unwrap_or(4)),
            fields,
        }
    }

    fn new() -> Block {
        Block {
            indent: "    ".into(),
            fields: Vec::new(),
        }
    }

    fn body(&self) -> String {
        let mut out = String::from("\n");
        for (_, text) in &self.fields {
            out.push_str(text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    fn set(&mut self, name: &str, text: String) {
        if let Some((_, old)) = self.fields.iter_mut().find(|(n, _)| n == name) {
            *old = text;
            return;
        }
        let rank = |n: &str| FIELD_ORDER.iter().position(|f| *f == n);
        let mine = rank(name).unwrap_or(FIELD_ORDER.len());
        let at = self
            .fields
            .iter()
            .position(|(n, _)| rank(n).is_some_and(|r| r > mine))
            .unwrap_or(self.fields.len());
        self.fields.insert(at, (name.to_string(), text));
    }

    fn scalar(&mut self, name: &str, value: &str) {
        let entry = Entry::new(name, Node::string(value));
        let text = format!("{}{}{}", self.indent, entry.head, entry.body);
        self.set(name, text);
    }

    fn age(&mut self, stanzas: &[AgeStanza]) {
        let i = &self.indent;
        let mut text = format!("{i}age:\n");
        for stanza in stanzas {
            text.push_str(&format!("{i}{i}- recipient: {}\n", stanza.recipient));
            text.push_str(&format!("{i}{i}  enc: |\n"));
            for line in stanza.enc.lines() {
                text.push_str(&format!("{i}{i}    {line}\n"));
            }
        }
        self.set("age", text);
    }
}

/// What an encrypted file needs to be written back.
struct Sealed {
    key: Zeroizing<[u8; KEY_LEN]>,
    block: Block,
    stanzas: Vec<AgeStanza>,
    rules: Rules,
    /// Entry key → (its view body, the original entry).
    entries: HashMap<String, (String, Entry)>,
    /// Comment text → the original (encrypted) comment texts, in file order.
    comments: HashMap<String, VecDeque<String>>,
    /// The view changed since it was opened (or the data key or recipients did).
    changed: bool,
}

/// A secret file opened for changes. Holds plaintext and the data key; no `Debug`.
pub struct Opened {
    view: Document,
    sealed: Option<Sealed>,
    /// A file in sops' binary format: `view` is the secret file sops stored as the one value
    /// `data`, and [`Opened::write`] writes that format back.
    binary: bool,
}

/// The bytes of a value as kubevault renders it: its text, `!!binary` decoded.
fn value_bytes(node: &Node) -> Option<Zeroizing<Vec<u8>>> {
    let Value::Scalar { text, .. } = &node.value else {
        return None;
    };
    if node.tag.as_deref() == Some("!!binary") {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
            .map(Zeroizing::new);
    }
    if node.is_null() {
        return Some(Zeroizing::new(Vec::new()));
    }
    Some(Zeroizing::new(text.as_bytes().to_vec()))
}

/// A value node for `bytes`: a string, or `!!binary` when not UTF-8.
pub(crate) fn value_node(bytes: &[u8]) -> Node {
    match std::str::from_utf8(bytes) {
        Ok(text) => Node::string(text),
        Err(_) => {
            let mut node = Node::string(base64::engine::general_purpose::STANDARD.encode(bytes));
            node.tag = Some("!!binary".into());
            node
        }
    }
}

/// True for values sops leaves as they are: nulls and empty strings.
fn stays_clear(node: &Node) -> bool {
    node.is_null() || matches!(&node.value, Value::Scalar { text, .. } if text.is_empty())
}

/// `2026-12-02T05:28:20Z`: now, as sops writes `lastmodified`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The recipients of an encrypted document's `sops.age`, without any key.
pub fn recipients(doc: &Node) -> Result<Vec<String>, SopsError> {
    let sops = doc.get("sops").ok_or(SopsError::NotEncrypted)?;
    Ok(Metadata::parse(sops)?
        .age
        .into_iter()
        .map(|s| s.recipient)
        .collect())
}

fn sops_node(text: &str) -> Result<Node, WriteError> {
    let tree = parse_tree(text)?.ok_or(SopsError::NotEncrypted)?;
    tree.get("sops")
        .cloned()
        .filter(|s| s.as_map().is_some())
        .ok_or(WriteError::Sops(SopsError::NotEncrypted))
}

impl Opened {
    /// Opens a file's text. An encrypted file needs `identities` (its values are decrypted and
    /// its MAC verified); a plaintext one does not.
    pub fn open(text: &str, identities: Option<&Identities>) -> Result<Opened, WriteError> {
        let doc = Document::parse(text)?;
        let Some(sops_entry) = doc.entry("sops").filter(|e| e.value.as_map().is_some()) else {
            return Ok(Opened {
                view: doc,
                sealed: None,
                binary: false,
            });
        };
        let tree = parse_tree(text)?.ok_or(SopsError::NotEncrypted)?;
        let identities = identities.ok_or_else(|| SopsError::NoIdentities {
            recipients: recipients(&tree).unwrap_or_default(),
            searched: Vec::new(),
        })?;
        let plain = super::decrypt(&tree, identities)?;
        let mut plain = scopeguard(plain);
        let metadata = Metadata::parse(&sops_entry.value)?;
        let key = identities.unwrap_data_key(&metadata.age, &mut super::header::Work::default())?;
        let mut view = Document::default();
        let mut entries = HashMap::new();
        let mut comments = HashMap::new();
        for piece in &doc.pieces {
            match piece {
                Piece::Entry(entry) if entry.key == "sops" => {}
                Piece::Entry(entry) => {
                    let value = plain.0.get(&entry.key).cloned().unwrap_or(Node::plain(""));
                    let encrypted = value != entry.value;
                    let shown = if encrypted {
                        entry.with_body(Entry::body_for(&entry.key, &value), value)
                    } else {
                        entry.clone()
                    };
                    entries.insert(entry.key.clone(), (shown.body.clone(), entry.clone()));
                    view.pieces.push(Piece::Entry(shown));
                }
                Piece::Comment { indent, text, eol } => {
                    // A comment sops encrypted at the top level (additional data `:`); one
                    // that does not open so (nested, or foreign) is kept as it is.
                    let shown = format::parse(text)
                        .ok()
                        .filter(|value| value.kind == format::ValueType::Comment)
                        .and_then(|value| value.decrypt(&key, b":").ok())
                        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
                        .unwrap_or_else(|| text.clone());
                    comments
                        .entry(shown.clone())
                        .or_insert_with(VecDeque::new)
                        .push_back(text.clone());
                    view.pieces.push(Piece::Comment {
                        indent: indent.clone(),
                        text: shown,
                        eol: eol.clone(),
                    });
                }
                Piece::Other(text) => view.pieces.push(Piece::Other(text.clone())),
            }
        }
        super::wipe(&mut plain.0);
        Ok(Opened {
            view,
            binary: false,
            sealed: Some(Sealed {
                key,
                block: Block::parse(&sops_entry.body),
                stanzas: metadata.age,
                rules: metadata.rules,
                entries,
                comments,
                changed: false,
            }),
        })
    }

    /// Opens a file in sops' binary format (what sops makes of a file whose name has no
    /// `.yaml` extension: the whole secret file as the one encrypted value `data`, in JSON). The
    /// view is that secret file; [`Opened::write`] seals it back into the same format, under the
    /// same data key, with sops' MAC.
    pub fn open_binary(json: &str, identities: &Identities) -> Result<Opened, WriteError> {
        let block = super::binary_json::json_to_block(json)?;
        let outer = Opened::open(&block, Some(identities))?;
        let bytes = outer.value("data").ok_or_else(|| WriteError::Document {
            line: 0,
            message: "sops' binary format without `data`".into(),
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| WriteError::Document {
            line: 0,
            message: "the file sops stored is not UTF-8 text, so not a secret file".into(),
        })?;
        let view = Document::parse(text)?;
        if let Some(entry) = view.entry("sops") {
            return Err(WriteError::Document {
                line: entry.line,
                message: "`sops` is reserved for the SOPS metadata; use another key".into(),
            });
        }
        Ok(Opened {
            view,
            sealed: outer.sealed,
            binary: true,
        })
    }

    /// True when the file is SOPS-encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.sealed.is_some()
    }

    /// The age recipients of an encrypted file.
    pub fn recipients(&self) -> Vec<String> {
        self.sealed
            .as_ref()
            .map(|s| s.stanzas.iter().map(|st| st.recipient.clone()).collect())
            .unwrap_or_default()
    }

    /// The keys, in file order.
    pub fn keys(&self) -> Vec<String> {
        self.view.entries().map(|e| e.key.clone()).collect()
    }

    /// A value's bytes (`None` when the key is absent).
    pub fn value(&self, key: &str) -> Option<Zeroizing<Vec<u8>>> {
        self.view.entry(key).and_then(|e| value_bytes(&e.value))
    }

    /// Sets `key` to `bytes` (stored as a string, `!!binary` when not UTF-8). Returns false,
    /// changing nothing, when the value is already that.
    pub fn set(&mut self, key: &str, bytes: &[u8]) -> bool {
        if self.value(key).is_some_and(|old| old.as_slice() == bytes)
            && self.view.entry(key).is_some()
        {
            return false;
        }
        self.view.set(key, value_node(bytes));
        self.mark_changed();
        true
    }

    /// Removes `key`; false when it was not there.
    pub fn unset(&mut self, key: &str) -> bool {
        let removed = self.view.remove(key);
        if removed {
            self.mark_changed();
        }
        removed
    }

    fn mark_changed(&mut self) {
        if let Some(sealed) = &mut self.sealed {
            sealed.changed = true;
        }
    }

    /// The decrypted file as text: what `edit` shows and `show` prints.
    pub fn view_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.view.render())
    }

    /// Replaces the view with edited text (already validated as a secret file by the caller).
    /// Returns false when the text is the view unchanged.
    pub fn replace_view(&mut self, text: &str) -> Result<bool, WriteError> {
        if *self.view_text() == text {
            return Ok(false);
        }
        let doc = Document::parse(text)?;
        if doc.entry("sops").is_some() {
            return Err(WriteError::Document {
                line: doc.entry("sops").map_or(0, |e| e.line),
                message: "`sops` is reserved for the SOPS metadata; use another key".into(),
            });
        }
        self.view = doc;
        self.mark_changed();
        Ok(true)
    }

    /// Encrypts a plaintext file: a fresh data key wrapped for the recipients; every value the
    /// selector covers is encrypted on [`write`](Opened::write).
    pub fn encrypt(&mut self, encryption: &Encryption) -> Result<(), WriteError> {
        if self.sealed.is_some() {
            return Ok(());
        }
        if encryption.recipients.is_empty() {
            return Err(WriteError::Document {
                line: 0,
                message: "the creation rule names no age recipients".into(),
            });
        }
        let key = new_data_key()?;
        let mut block = Block::new();
        let (field, value) = encryption.selector.field();
        block.scalar(field, value);
        if encryption.mac_only_encrypted {
            block.set(
                "mac_only_encrypted",
                format!("{}mac_only_encrypted: true\n", block.indent),
            );
        }
        block.set(
            "version",
            format!("{}version: {SOPS_VERSION}\n", block.indent),
        );
        let stanzas = wrap_all(&key, &encryption.recipients, &[])?;
        block.age(&stanzas);
        let rules = rules_of(&block)?;
        self.sealed = Some(Sealed {
            key,
            block,
            stanzas,
            rules,
            entries: HashMap::new(),
            comments: HashMap::new(),
            changed: true,
        });
        Ok(())
    }

    /// Re-wraps the data key for `recipients` (stanzas of recipients that stay are kept as they
    /// are); with `rotate`, draws a fresh data key and re-encrypts every value and comment.
    /// Returns false when nothing changes.
    pub fn rekey(&mut self, recipients: &[String], rotate: bool) -> Result<bool, WriteError> {
        let Some(sealed) = &mut self.sealed else {
            return Ok(false);
        };
        if rotate {
            sealed.key = new_data_key()?;
            sealed.entries.clear();
            sealed.comments.clear();
            sealed.stanzas = wrap_all(&sealed.key, recipients, &[])?;
            sealed.block.age(&sealed.stanzas);
            sealed.changed = true;
            return Ok(true);
        }
        let current: Vec<&str> = sealed
            .stanzas
            .iter()
            .map(|s| s.recipient.as_str())
            .collect();
        if current == recipients.iter().map(String::as_str).collect::<Vec<_>>() {
            return Ok(false);
        }
        sealed.stanzas = wrap_all(&sealed.key, recipients, &sealed.stanzas)?;
        sealed.block.age(&sealed.stanzas);
        Ok(true)
    }

    /// The file text to write.
    pub fn write(&self) -> Result<String, WriteError> {
        if !self.binary {
            return self.write_view(&self.view);
        }
        let text = Zeroizing::new(self.view.render());
        let mut outer = Document::default();
        outer.pieces.push(Piece::Entry(Entry::new(
            "data",
            Node::string(text.as_str()),
        )));
        let block = Zeroizing::new(self.write_view(&outer)?);
        super::binary_json::block_to_json(&block)
    }

    /// `view` sealed under this file's data key and rules (or as it is, for a plaintext file).
    fn write_view(&self, view: &Document) -> Result<String, WriteError> {
        let Some(sealed) = &self.sealed else {
            return Ok(view.render());
        };
        let mut doc = Document::default();
        let comments_encrypted = sealed.rules.should_encrypt(&[]);
        let mut originals = sealed.comments.clone();
        for piece in &view.pieces {
            match piece {
                Piece::Entry(entry) => {
                    if let Some((body, original)) = sealed.entries.get(&entry.key)
                        && *body == entry.body
                    {
                        doc.pieces.push(Piece::Entry(original.clone()));
                        continue;
                    }
                    if stays_clear(&entry.value) || !sealed.rules.should_encrypt(&[&entry.key]) {
                        doc.pieces.push(Piece::Entry(entry.clone()));
                        continue;
                    }
                    let bytes = value_bytes(&entry.value).ok_or_else(|| WriteError::Document {
                        line: entry.line,
                        message: format!(
                            "key \"{}\": a value must be a scalar, not a mapping or sequence",
                            entry.key
                        ),
                    })?;
                    let sealed_text = seal(
                        &sealed.key,
                        &bytes,
                        format!("{}:", entry.key).as_bytes(),
                        "str",
                    )?;
                    doc.pieces.push(Piece::Entry(
                        entry.with_body(format!(" {sealed_text}\n"), Node::string(sealed_text)),
                    ));
                }
                Piece::Comment { indent, text, eol } => {
                    let text = match originals.get_mut(text).and_then(VecDeque::pop_front) {
                        Some(original) if comments_encrypted || !original.starts_with("ENC[") => {
                            original.clone()
                        }
                        _ if comments_encrypted => {
                            seal(&sealed.key, text.as_bytes(), b":", "comment")?
                        }
                        _ => text.clone(),
                    };
                    doc.pieces.push(Piece::Comment {
                        indent: indent.clone(),
                        text,
                        eol: if eol.is_empty() {
                            "\n".into()
                        } else {
                            eol.clone()
                        },
                    });
                }
                Piece::Other(text) => {
                    let mut text = text.clone();
                    if !text.ends_with('\n') {
                        text.push('\n');
                    }
                    doc.pieces.push(Piece::Other(text));
                }
            }
        }
        let mut block = sealed.block.clone();
        let mut sops_entry = Entry::new("sops", Node::plain(""));
        sops_entry.body = block.body();
        doc.pieces.push(Piece::Entry(sops_entry.clone()));
        if !sealed.changed && block.fields.iter().any(|(n, _)| n == "mac") {
            // Only the recipients changed: values, MAC and lastmodified stay.
            return Ok(doc.render());
        }
        // The MAC over the text about to be written, by the walker that verifies it.
        let draft = doc.render();
        let tree = parse_tree(&draft)?.ok_or(SopsError::NotEncrypted)?;
        let sops = tree.get("sops").ok_or(SopsError::NotEncrypted)?;
        let metadata = metadata_of_node(sops)?;
        let (rules, mac_only) = (metadata.rules, metadata.mac_only_encrypted);
        let data = Node {
            value: Value::Map(
                tree.as_map()
                    .unwrap_or_default()
                    .iter()
                    .filter(|(k, _)| k.as_str() != Some("sops"))
                    .cloned()
                    .collect(),
            ),
            tag: None,
            line: 0,
        };
        let mut walker = Walker::new(&sealed.key, &rules, mac_only);
        let mut walked = walker.walk(&data)?;
        super::wipe(&mut walked);
        let mac = walker.finish();
        let last_modified = now_rfc3339();
        let sealed_mac = seal(&sealed.key, mac.as_bytes(), last_modified.as_bytes(), "str")?;
        block.scalar("lastmodified", &last_modified);
        block.set("mac", format!("{}mac: {sealed_mac}\n", block.indent));
        if !block.fields.iter().any(|(n, _)| n == "version") {
            block.set(
                "version",
                format!("{}version: {SOPS_VERSION}\n", block.indent),
            );
        }
        sops_entry.body = block.body();
        if let Some(Piece::Entry(last)) = doc.pieces.last_mut() {
            *last = sops_entry;
        }
        Ok(doc.render())
    }
}

/// Holder that lets the decrypted tree be wiped on every path.
struct Guard(Node);

impl Drop for Guard {
    fn drop(&mut self) {
        super::wipe(&mut self.0);
    }
}

fn scopeguard(node: Node) -> Guard {
    Guard(node)
}

fn wrap_all(
    key: &[u8; KEY_LEN],
    recipients: &[String],
    keep: &[AgeStanza],
) -> Result<Vec<AgeStanza>, WriteError> {
    recipients
        .iter()
        .map(
            |recipient| match keep.iter().find(|s| &s.recipient == recipient) {
                Some(stanza) => Ok(AgeStanza {
                    recipient: stanza.recipient.clone(),
                    enc: stanza.enc.clone(),
                }),
                None => Ok(AgeStanza {
                    recipient: recipient.clone(),
                    enc: wrap_data_key(key, recipient)?,
                }),
            },
        )
        .collect()
}

/// The value rules a block stores (parsed with a placeholder MAC when it has none yet).
fn rules_of(block: &Block) -> Result<Rules, WriteError> {
    let mut draft = block.clone();
    if !draft.fields.iter().any(|(n, _)| n == "lastmodified") {
        draft.scalar("lastmodified", "2000-01-01T00:00:00Z");
    }
    if !draft.fields.iter().any(|(n, _)| n == "mac") {
        draft.scalar("mac", "ENC[placeholder]");
    }
    let node = sops_node(&format!("sops:{}", draft.body()))?;
    Ok(metadata_of_node(&node)?.rules)
}

fn metadata_of_node(sops: &Node) -> Result<Metadata, WriteError> {
    let mut node = sops.clone();
    if node
        .get("mac")
        .is_none_or(|m| m.as_str().is_none_or(str::is_empty))
    {
        node.set("mac", Node::string("ENC[placeholder]"));
    }
    if node.get("lastmodified").is_none() {
        node.set("lastmodified", Node::string("2000-01-01T00:00:00Z"));
    }
    Ok(Metadata::parse(&node)?)
}
