//! Read-only baseline for the benchmarks: walk a directory and read every regular file.
//!
//! ```text
//! cargo run --release --example read-baseline -- DIR
//! ```
//!
//! It does the I/O that any vault renderer must do and nothing else: list every folder in
//! sorted order (skipping names that start with `.`, as kubevault does), read every regular file
//! fully into memory, and print the number of files and bytes. `bench/run.sh` times it next to
//! `kubevault generate` so the ratio shows how much the rendering itself costs on top of the I/O.
//! Standard library only, single-threaded, like the renderer.
#![forbid(unsafe_code)]

use std::fs;
use std::io;
use std::path::Path;
use std::process::ExitCode;

/// Totals of one walk.
#[derive(Default)]
struct Totals {
    /// Regular files read.
    files: u64,
    /// Bytes read from them.
    bytes: u64,
}

/// Reads every regular file below `dir`, depth-first in sorted order, into `totals`.
fn walk(dir: &Path, totals: &mut Totals) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&path, totals)?;
        } else if file_type.is_file() {
            let content = fs::read(&path)?;
            totals.files += 1;
            totals.bytes += content.len() as u64;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: read-baseline DIR");
        return ExitCode::from(2);
    };
    let mut totals = Totals::default();
    match walk(Path::new(&dir), &mut totals) {
        Ok(()) => {
            println!("{} files, {} bytes", totals.files, totals.bytes);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("read-baseline: {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}
