//! Fuzz target: the ResourceList reader on arbitrary text. It must never panic, and whatever it
//! accepts must survive being written back and read again (the output is valid YAML). The fast
//! path for items must read exactly what the full parser reads, wherever it answers, and
//! reading entry by entry (items kept as written) must agree with the whole parse.
#![no_main]

use kubevault::krm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    assert!(kubevault::yaml::fast_path_agrees(text));
    assert!(krm::read_agrees(text));
    if let Ok(list) = krm::read(text) {
        let n = list.items.len();
        let out = krm::write(&list.api_version, &list.items, list.function_config, Vec::new());
        let again = krm::read(&out).expect("kubevault's own ResourceList reads back");
        assert_eq!(again.items.len(), n);
    }
});
