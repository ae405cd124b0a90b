//! Fuzz target: the functionConfig loader (YAML stream, then validation) on arbitrary text. It
//! must never panic; an accepted config has a name and a DNS-1123 namespace.
#![no_main]

use kubevault::config;
use kubevault::vault::names::is_dns1123_label;
use kubevault::yaml::{Limits, parse_stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = parse_stream(text, &Limits::default()) else {
        return;
    };
    if let Ok(cfg) = config::parse(docs.iter().find(|d| !d.is_null())) {
        assert!(!cfg.name.is_empty());
        assert!(is_dns1123_label(&cfg.namespace));
        assert!(!cfg.vault_dir.is_empty());
    }
});
