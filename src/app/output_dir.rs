//! `generate --output-dir`: one file per object, and cleanup of files an earlier run wrote.
//!
//! The list of files a run wrote is kept in `.kubevault-generated` in the directory; only names
//! on that list are ever removed, and only plain file names (no path separators) are trusted.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::Context;

use crate::object::Object;
use crate::yaml::emit_document;

/// The manifest of files written by the last run.
pub const MANIFEST: &str = ".kubevault-generated";

/// The file an object goes to: `<kind>_<name>.yaml`, lowercase kind, `:` replaced by `-`.
pub fn file_name(object: &Object) -> String {
    let r = object.resource_ref();
    format!(
        "{}_{}.yaml",
        r.kind.to_lowercase(),
        r.name.replace(':', "-")
    )
}

/// Writes every object, removes stale files of the previous run, returns how many were written.
pub fn write(dir: &Path, objects: &[Object]) -> anyhow::Result<usize> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = dir.join(MANIFEST);
    let previous: BTreeSet<String> = match fs::read_to_string(&manifest) {
        Ok(text) => text
            .lines()
            .filter(|l| is_plain_name(l))
            .map(str::to_string)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", manifest.display())),
    };
    let mut written = BTreeSet::new();
    for object in objects {
        let name = file_name(object);
        let path = dir.join(&name);
        fs::write(&path, emit_document(&object.to_node()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.insert(name);
    }
    for stale in previous.difference(&written) {
        let path = dir.join(stale);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    let list: String = written.iter().map(|n| format!("{n}\n")).collect();
    fs::write(&manifest, list).with_context(|| format!("cannot write {}", manifest.display()))?;
    Ok(written.len())
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && name != MANIFEST
}
