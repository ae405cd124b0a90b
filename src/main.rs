//! The `kubevault` binary: parse the command line, run, print once, exit with a named code.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use kubevault::{app, cli::Cli, exit::Exit};

fn main() -> ExitCode {
    // A panic is a bug; its payload could quote input, so print only where it happened.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{at}; please report it (no input is shown)");
    }));
    let cli = Cli::parse();
    // The rendering modes stream into this once their run is known to succeed.
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let exit = match app::run(cli, &mut stdout) {
        Ok(report) => {
            if report
                .stdout
                .iter()
                .try_for_each(|part| stdout.write_all(part.as_bytes()))
                .and_then(|()| stdout.flush())
                .is_err()
            {
                eprintln!("error: cannot write to stdout");
                return Exit::Failure.into();
            }
            for line in &report.messages {
                eprintln!("{line}");
            }
            report.exit
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            Exit::Failure
        }
    };
    exit.into()
}
