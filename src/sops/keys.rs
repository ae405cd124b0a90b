//! age identities: parsing `keys.txt`, sops' key lookup, and unwrapping a file's data key.
//!
//! sops looks for age identities in `SOPS_AGE_KEY` (the keys inline), the file named by
//! `SOPS_AGE_KEY_FILE`, and `$XDG_CONFIG_HOME/sops/age/keys.txt` (else `~/.config/sops/age/keys.txt`),
//! and merges all of them. kubevault adds the functionConfig's `spec.decryption.ageKeyFile`.
//! Key material is read into zeroizing buffers and never formatted; only public keys (recipients)
//! and the places searched appear in `Debug` output and errors.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::armor::ArmoredReader;
use age::x25519;
use zeroize::Zeroizing;

use super::SopsError;
use super::format::KEY_LEN;
use super::header;
use super::x25519::X25519Key;

/// Largest key file read (sops uses the same cap).
const KEY_FILE_LIMIT: u64 = 16 << 20;

/// The age identities to try, with the places they were looked for.
///
/// Never prints key material: `Debug` shows the count, the public keys and the places searched.
#[derive(Default)]
pub struct Identities {
    keys: Vec<X25519Key>,
    recipients: Vec<String>,
    searched: Vec<String>,
}

impl Identities {
    /// An empty set, to [`merge`](Identities::merge) sources into.
    pub fn new() -> Identities {
        Identities::default()
    }

    /// Parses age identities in the `keys.txt` format that `age-keygen` writes and sops reads:
    /// one `AGE-SECRET-KEY-1…` per line, `#` comments and blank lines ignored. `origin` names the
    /// source in errors (a path, or `SOPS_AGE_KEY`). Errors give the line, never its text.
    pub fn parse(text: &str, origin: &str) -> Result<Identities, SopsError> {
        let mut identities = Identities {
            searched: vec![origin.to_string()],
            ..Default::default()
        };
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let error = |reason: &str| SopsError::KeyFile {
                origin: origin.to_string(),
                line: index + 1,
                reason: reason.to_string(),
            };
            let upper = line.get(..15).map(str::to_ascii_uppercase);
            match upper.as_deref() {
                Some("AGE-SECRET-KEY-") => {
                    let key = x25519::Identity::from_str(line)
                        .ok()
                        .and_then(|key| Some((key.to_public().to_string(), X25519Key::new(&key)?)))
                        .ok_or_else(|| error("not a valid age secret key"))?;
                    identities.push(key.0, key.1);
                }
                Some(prefix) if prefix.starts_with("AGE-PLUGIN-") => {
                    return Err(error("age plugin identities are not supported"));
                }
                _ if line.starts_with("-----BEGIN") => {
                    return Err(error(
                        "SSH and armored identities are not supported; use an age X25519 key \
                         (AGE-SECRET-KEY-1...)",
                    ));
                }
                _ => {
                    return Err(error(
                        "not an age secret key (expected AGE-SECRET-KEY-1...)",
                    ));
                }
            }
        }
        Ok(identities)
    }

    /// Reads and parses a key file.
    pub fn from_file(path: &Path) -> Result<Identities, SopsError> {
        let origin = path.display().to_string();
        let text = read_key_file(path).map_err(|reason| SopsError::KeyFile {
            origin: origin.clone(),
            line: 0,
            reason,
        })?;
        Identities::parse(&text, &origin)
    }

    /// Adds a key under its public key (`age1…`), unless that key is already there.
    fn push(&mut self, recipient: String, key: X25519Key) {
        if !self.recipients.contains(&recipient) {
            self.recipients.push(recipient);
            self.keys.push(key);
        }
    }

    /// Adds the identities (and searched places) of `other` after these, dropping duplicates.
    pub fn merge(&mut self, other: Identities) {
        for (key, recipient) in other.keys.into_iter().zip(other.recipients) {
            self.push(recipient, key);
        }
        self.searched.extend(other.searched);
    }

    /// Records a place that was searched and held no keys (shown in "no key" errors).
    pub fn note_searched(&mut self, place: impl Into<String>) {
        self.searched.push(place.into());
    }

    /// True when there is no identity at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The number of distinct identities.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The public keys (`age1…`) of the identities, in the order they are tried.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    /// The places that were searched for keys, in order.
    pub fn searched(&self) -> &[String] {
        &self.searched
    }

    /// Unwraps the 32-byte data key from the first age stanza one of our identities opens.
    ///
    /// Every entry is first checked against the bounds of [`header`](super::header), so that age
    /// never sees a crafted header; `work` counts what was read and handed on.
    pub(crate) fn unwrap_data_key(
        &self,
        stanzas: &[AgeStanza],
        work: &mut header::Work,
    ) -> Result<Zeroizing<[u8; KEY_LEN]>, SopsError> {
        check_bounds(stanzas, work)?;
        let recipients: Vec<String> = stanzas.iter().map(|s| s.recipient.clone()).collect();
        if self.is_empty() {
            return Err(SopsError::NoIdentities {
                recipients,
                searched: self.searched.clone(),
            });
        }
        for stanza in stanzas {
            work.handed_to_age += 1;
            let Ok(decryptor) =
                age::Decryptor::new_buffered(ArmoredReader::new(stanza.enc.as_bytes()))
            else {
                continue;
            };
            let identities = self.keys.iter().map(|key| key as &dyn age::Identity);
            let Ok(mut reader) = decryptor.decrypt(identities) else {
                continue;
            };
            let mut plain = Zeroizing::new(Vec::with_capacity(KEY_LEN));
            let bad = |reason: &str| SopsError::DataKey {
                recipient: stanza.recipient.clone(),
                reason: reason.to_string(),
            };
            reader
                .by_ref()
                .take(KEY_LEN as u64 + 1)
                .read_to_end(&mut plain)
                .map_err(|_| bad("the age payload is corrupt"))?;
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            if plain.len() != KEY_LEN {
                return Err(bad("the data key is not 32 bytes"));
            }
            key.copy_from_slice(&plain);
            return Ok(key);
        }
        Err(SopsError::NoMatchingIdentity {
            recipients,
            tried: self.recipients.clone(),
        })
    }
}

impl fmt::Debug for Identities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identities")
            .field("recipients", &self.recipients)
            .field("searched", &self.searched)
            .finish()
    }
}

/// One `sops.age[]` entry: the recipient and the armored age file holding the data key.
pub(crate) struct AgeStanza {
    pub(crate) recipient: String,
    pub(crate) enc: String,
}

/// Reads a key file without ever blocking ([`crate::safe_read::read_regular`]): only a regular
/// file of at most [`KEY_FILE_LIMIT`] bytes, so `/dev/stdout`, a FIFO, a terminal or
/// `/dev/zero` is refused at once. The bytes are zeroed when dropped.
fn read_key_file(path: &Path) -> Result<Zeroizing<String>, String> {
    let bytes = crate::safe_read::read_regular(path, KEY_FILE_LIMIT).map_err(|why| {
        if why.starts_with("larger than") {
            format!("larger than {} MiB", KEY_FILE_LIMIT >> 20)
        } else {
            why
        }
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|_| "not UTF-8 text".to_string())?;
    Ok(Zeroizing::new(text.to_string()))
}

/// The default key file sops reads: `$XDG_CONFIG_HOME/sops/age/keys.txt`, else
/// `$HOME/.config/sops/age/keys.txt`. `None` when neither variable gives an absolute directory
/// (Go's `os.UserConfigDir` refuses a relative `XDG_CONFIG_HOME`).
pub fn default_key_file(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let config = match env("XDG_CONFIG_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env("HOME").filter(|dir| !dir.is_empty())?).join(".config"),
    };
    config
        .is_absolute()
        .then(|| config.join("sops").join("age").join("keys.txt"))
}

/// Loads every age identity sops would use, plus an explicit key file, merged in this order:
///
/// 1. `explicit_key_file` (kubevault's `spec.decryption.ageKeyFile`): must exist;
/// 2. `SOPS_AGE_KEY`: one or more keys inline, in `keys.txt` format;
/// 3. `SOPS_AGE_KEY_FILE`: must exist when set (as in sops);
/// 4. [`default_key_file`]: skipped silently when missing.
///
/// `env` looks up environment variables (pass `&|name| std::env::var(name).ok()` in production;
/// tests pass a fake). Every key is tried when decrypting, so the order only decides which
/// identity is tried first. An empty result is not an error here: [`decrypt`](super::decrypt)
/// reports it, with the places searched, when a file needs a key.
pub fn load_identities(
    explicit_key_file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Identities, SopsError> {
    let mut identities = Identities::new();
    if let Some(path) = explicit_key_file {
        identities.merge(Identities::from_file(path)?);
    }
    if let Some(inline) = env("SOPS_AGE_KEY").filter(|text| !text.trim().is_empty()) {
        let inline = Zeroizing::new(inline);
        identities.merge(Identities::parse(&inline, "SOPS_AGE_KEY")?);
    }
    if let Some(path) = env("SOPS_AGE_KEY_FILE").filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        identities.merge(Identities::from_file(&path).map_err(|error| match error {
            SopsError::KeyFile {
                origin,
                line,
                reason,
            } => SopsError::KeyFile {
                origin: format!("{origin} (from SOPS_AGE_KEY_FILE)"),
                line,
                reason,
            },
            other => other,
        })?);
    }
    match default_key_file(env) {
        Some(path) if path.exists() => identities.merge(Identities::from_file(&path)?),
        Some(path) => identities.note_searched(format!("{} (not found)", path.display())),
        None => identities.note_searched("the user config directory (HOME unset)"),
    }
    Ok(identities)
}

/// Checks every age entry against the bounds of [`header`](super::header) (number of
/// recipients, size and stanzas of each `enc`) before anything reaches age; needs no key.
pub(crate) fn check_bounds(
    stanzas: &[AgeStanza],
    work: &mut header::Work,
) -> Result<(), SopsError> {
    if stanzas.len() > header::MAX_RECIPIENTS {
        return Err(SopsError::Metadata {
            reason: format!(
                "{} age recipients, more than the {} allowed",
                stanzas.len(),
                header::MAX_RECIPIENTS
            ),
        });
    }
    for (index, stanza) in stanzas.iter().enumerate() {
        header::check(&stanza.enc, work).map_err(|reason| SopsError::Metadata {
            reason: format!("the `enc` of age recipient {} {reason}", index + 1),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AGE-SECRET-KEY-1EQUCGFZH8UZKSZ0Z5N5T234YRNDT4U9H7QNYXWRRNJYDDVXE6FWSCPGNJ7";
    const PUBLIC: &str = "age1se5ghfycr4n8kcwc3qwf234ymvmr2lex2a99wh8gpfx97glwt9hqch4569";

    #[test]
    fn parses_keys_txt_with_comments_and_blank_lines() {
        let text = format!("# created: now\n# public key: {PUBLIC}\n\n  {KEY}  \n");
        let ids = Identities::parse(&text, "keys.txt").unwrap();
        assert_eq!(ids.recipients(), [PUBLIC]);
        assert_eq!(ids.len(), 1);
    }

    #[test]
    fn duplicate_keys_are_kept_once() {
        let mut ids = Identities::parse(KEY, "a").unwrap();
        ids.merge(Identities::parse(KEY, "b").unwrap());
        assert_eq!(ids.len(), 1);
        assert_eq!(ids.searched(), ["a", "b"]);
    }

    #[test]
    fn bad_lines_name_the_line_not_the_text() {
        let text = format!("{KEY}\nAGE-SECRET-KEY-1NOTAKEYSENTINEL\n");
        let err = Identities::parse(&text, "keys.txt").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("line 2"), "{shown}");
        assert!(
            !shown.contains("SENTINEL") && !shown.contains(KEY),
            "{shown}"
        );
        assert!(Identities::parse("hunter2", "x").is_err());
        assert!(Identities::parse("AGE-PLUGIN-YUBIKEY-1XYZ", "x").is_err());
    }

    /// A sops `age` entry wrapping `data_key` for `recipient`, as sops writes it.
    fn entry(recipient: &x25519::Recipient, data_key: &[u8; KEY_LEN]) -> AgeStanza {
        use age::armor::{ArmoredWriter, Format};
        use std::io::Write;
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).unwrap();
        let mut writer = encryptor.wrap_output(armor).unwrap();
        writer.write_all(data_key).unwrap();
        writer.finish().and_then(|armor| armor.finish()).unwrap();
        AgeStanza {
            recipient: recipient.to_string(),
            enc: String::from_utf8(out).unwrap(),
        }
    }

    #[test]
    fn work_grows_linearly_with_the_recipients() {
        let ours = Identities::parse(KEY, "keys.txt").unwrap();
        let our_recipient = x25519::Identity::from_str(KEY).unwrap().to_public();
        let data_key = [42u8; KEY_LEN];
        let mut counts = Vec::new();
        for n in [4, 8, 16, 32] {
            let mut stanzas: Vec<AgeStanza> = (1..n)
                .map(|_| entry(&x25519::Identity::generate().to_public(), &data_key))
                .collect();
            stanzas.push(entry(&our_recipient, &data_key));
            let mut work = header::Work::default();
            let key = ours.unwrap_data_key(&stanzas, &mut work).unwrap();
            assert_eq!(*key, data_key);
            assert_eq!(work.handed_to_age, n, "{work:?}");
            // One stanza per entry, plus at most one grease stanza each.
            assert!(work.stanzas >= n && work.stanzas <= 2 * n, "{n}: {work:?}");
            assert!(
                work.lines <= n * (2 * header::MAX_STANZAS + 2),
                "{n}: {work:?}"
            );
            counts.push(work.handed_to_age);
        }
        assert_eq!(counts, [4, 8, 16, 32]);
    }

    #[test]
    fn crafted_headers_never_reach_age() {
        use base64::Engine;
        let ours = Identities::parse(KEY, "keys.txt").unwrap();
        let good = entry(
            &x25519::Identity::from_str(KEY).unwrap().to_public(),
            &[1; KEY_LEN],
        );
        // Many fake stanzas in one entry (the 2,000: 315 KB).
        let stanza = "-> X25519 bm90IGEga2V5IGF0IGFsbCBidXQgdGhlIHJpZ2h0IHNpemU\nbm90IGEgcmVhbCBib2R5IGVpdGhlciwganVzdCA0MyBjaGFyYWN0ZXJzIG9rYXk\n";
        for n in [9, 100, 2000] {
            let header = format!("age-encryption.org/v1\n{}--- AAAA\n", stanza.repeat(n));
            let b64 = base64::engine::general_purpose::STANDARD.encode(header);
            let crafted = AgeStanza {
                recipient: "age1crafted".into(),
                enc: format!(
                    "-----BEGIN AGE ENCRYPTED FILE-----\n{b64}\n-----END AGE ENCRYPTED FILE-----\n"
                ),
            };
            let mut work = header::Work::default();
            let error = ours
                .unwrap_data_key(
                    &[
                        crafted,
                        entry(&x25519::Identity::generate().to_public(), &[1; KEY_LEN]),
                    ],
                    &mut work,
                )
                .err()
                .unwrap();
            assert!(matches!(error, SopsError::Metadata { .. }), "{error}");
            assert_eq!(work.handed_to_age, 0, "{n}: {work:?}");
            assert!(work.stanzas <= header::MAX_STANZAS + 1, "{n}: {work:?}");
        }
        // Too many entries, each fine on its own.
        let many: Vec<AgeStanza> = (0..=header::MAX_RECIPIENTS)
            .map(|_| AgeStanza {
                recipient: good.recipient.clone(),
                enc: good.enc.clone(),
            })
            .collect();
        let mut work = header::Work::default();
        let error = ours.unwrap_data_key(&many, &mut work).err().unwrap();
        assert!(error.to_string().contains("257 age recipients"), "{error}");
        assert_eq!(work, header::Work::default());
    }

    #[test]
    fn debug_prints_no_key_material() {
        let ids = Identities::parse(KEY, "keys.txt").unwrap();
        let shown = format!("{ids:?}");
        assert!(shown.contains(PUBLIC));
        assert!(!shown.contains("AGE-SECRET-KEY"));
    }

    #[test]
    fn default_key_file_follows_xdg_then_home() {
        let env = |name: &str| match name {
            "XDG_CONFIG_HOME" => Some("/xdg".to_string()),
            "HOME" => Some("/home/u".to_string()),
            _ => None,
        };
        assert_eq!(
            default_key_file(&env),
            Some(PathBuf::from("/xdg/sops/age/keys.txt"))
        );
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_string());
        assert_eq!(
            default_key_file(&env),
            Some(PathBuf::from("/home/u/.config/sops/age/keys.txt"))
        );
        let env = |name: &str| (name == "XDG_CONFIG_HOME").then(|| "relative".to_string());
        assert_eq!(default_key_file(&env), None);
        assert_eq!(default_key_file(&|_: &str| None), None);
    }
}
