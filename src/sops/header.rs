//! Bounds on the age files in `sops.age[].enc`, checked before any of them reaches age.
//!
//! age's header reader re-parses the header from its start every time it needs more bytes (byte
//! by byte through `Decryptor::new`, line by line through `Decryptor::new_buffered`, which
//! `keys.rs` uses: the byte-wise re-parsing took a fifth of the CPU of rendering an encrypted
//! vault), so a header of `n` stanzas costs `O(n²)`: a 1 MiB `enc` of fake stanzas takes
//! minutes, and one crafted kvstore file stalls every render. sops writes one `enc` per
//! recipient, each an armored age file of about 400 bytes with one stanza (two with a grease
//! stanza). [`check`] reads the armor and the header lines itself, in one linear pass, and refuses
//! anything larger than [`MAX_ENC_BYTES`] or with more than [`MAX_STANZAS`] stanzas;
//! [`MAX_RECIPIENTS`] bounds the number of `enc` entries per file. Only then is an entry handed to
//! age, so the work age does per file is bounded by a constant times the number of entries.

use base64::Engine;

/// Most `sops.age` entries (recipients) one file may have.
pub const MAX_RECIPIENTS: usize = 256;
/// Most bytes of one armored `enc` (a real one is about 400; an SSH-RSA stanza about 1,000).
pub const MAX_ENC_BYTES: usize = 8 * 1024;
/// Most stanzas in one `enc` header (sops writes one, age may add one grease stanza).
pub const MAX_STANZAS: usize = 8;

const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
const END: &str = "-----END AGE ENCRYPTED FILE-----";

/// What [`check`] looked at: the work it did, for tests that show it grows linearly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Header lines read.
    pub lines: usize,
    /// Stanzas seen.
    pub stanzas: usize,
    /// Entries handed to age.
    pub handed_to_age: usize,
}

/// Checks one armored `enc` and returns the stanza count, adding what it read to `work`. The
/// error is a fixed reason that never quotes the text.
pub fn check(enc: &str, work: &mut Work) -> Result<usize, String> {
    if enc.len() > MAX_ENC_BYTES {
        return Err(format!(
            "is {} bytes, more than the {MAX_ENC_BYTES} bytes an age file holding one data key needs",
            enc.len()
        ));
    }
    let body = armored_body(enc).ok_or("is not an armored age file")?;
    let header = String::from_utf8_lossy(&body);
    let mut lines = header.split('\n');
    work.lines += 1;
    if lines.next() != Some("age-encryption.org/v1") {
        return Err("is not an age v1 file".into());
    }
    let mut stanzas = 0;
    for line in lines {
        work.lines += 1;
        if line.starts_with("---") {
            return Ok(stanzas);
        }
        if line.starts_with("->") {
            stanzas += 1;
            work.stanzas += 1;
            if stanzas > MAX_STANZAS {
                return Err(format!(
                    "has more than {MAX_STANZAS} stanzas (sops writes one per recipient entry)"
                ));
            }
        }
    }
    Err("has an age header without its end".into())
}

/// The bytes inside the armor, decoded (lines trimmed as age's reader does).
fn armored_body(enc: &str) -> Option<Vec<u8>> {
    let mut lines = enc
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty());
    if lines.next()? != BEGIN {
        return None;
    }
    let mut b64 = String::with_capacity(enc.len());
    for line in lines.by_ref() {
        if line == END {
            return base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .ok();
        }
        b64.push_str(line);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An armored age file with `n` fake stanzas.
    fn fake(n: usize) -> String {
        let mut header = String::from("age-encryption.org/v1\n");
        for i in 0..n {
            header.push_str(&format!("-> X25519 fake{i}\nAAAA\n"));
        }
        header.push_str("--- AAAA\n");
        let b64 = base64::engine::general_purpose::STANDARD.encode(header.as_bytes());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!("{BEGIN}\n{}\n{END}\n", lines.join("\n"))
    }

    #[test]
    fn counts_stanzas_and_refuses_too_many() {
        let mut work = Work::default();
        assert_eq!(check(&fake(1), &mut work), Ok(1));
        assert_eq!(check(&fake(MAX_STANZAS), &mut work), Ok(MAX_STANZAS));
        let error = check(&fake(MAX_STANZAS + 1), &mut Work::default()).unwrap_err();
        assert!(error.contains("more than 8 stanzas"), "{error}");
    }

    #[test]
    fn work_is_bounded_however_many_stanzas_are_crafted() {
        // The 2,000 and 3,000 stanzas: refused by size, having read nothing.
        for n in [9, 100, 2000, 3000] {
            let mut work = Work::default();
            assert!(check(&fake(n), &mut work).is_err());
            assert!(work.lines <= 2 * MAX_STANZAS + 2, "{n}: {work:?}");
        }
    }

    #[test]
    fn refuses_other_shapes_without_quoting_them() {
        for text in [
            "SENTINEL".to_string(),
            format!("{BEGIN}\nSENTINEL!!\n{END}\n"),
            format!("{BEGIN}\nU0VOVElORUw=\n{END}\n"),
            "x".repeat(MAX_ENC_BYTES + 1),
        ] {
            let error = check(&text, &mut Work::default()).unwrap_err();
            assert!(!error.contains("SENTINEL"), "{error}");
        }
    }
}
