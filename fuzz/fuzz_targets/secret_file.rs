//! Fuzz target: the secret-file parser on arbitrary bytes. It must never panic, a parsed file
//! must respect the key and size limits, and the fast YAML reader for flat documents must read
//! exactly what the full parser reads, wherever it answers.
#![no_main]

use kubevault::limits::{MAX_KEYS_PER_SECRET, MAX_SECRET_BYTES};
use kubevault::vault::secret_file::{Parsed, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(kubevault::yaml::fast_path_agrees(text));
    }
    if let Ok(Parsed::Plain(secret)) = parse(data) {
        assert!(secret.len() <= MAX_KEYS_PER_SECRET);
        let total: usize = secret.iter().map(|(k, v)| k.len() + v.0.len()).sum();
        assert!(total <= MAX_SECRET_BYTES);
    }
});
