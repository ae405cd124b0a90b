//! The `kubevault` binary: parse the command line, run, print once, exit with a named code.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use kubevault::paint::Paint;
use kubevault::{
    app,
    cli::{self, Cli, ColorWhen},
    exit::Exit,
};

fn main() -> ExitCode {
    // A panic is a bug; its payload could quote input, so print only where it happened.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error{at}; please report it (no input is shown)");
    }));
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // clap's `help` subcommand takes no flags: `kubevault help --help` means `kubevault --help`.
    if args.get(1).is_some_and(|a| a == "help") {
        args.retain(|a| a != "--help" && a != "-h");
    }
    // `kubevault CONFIG_FILE` (kustomize's legacy exec plugin) only when that one argument is an
    // existing file; everything else is clap's, with its "did you mean" for typos.
    let cli = match cli::legacy_plugin_config(&args) {
        Some(config) => Cli {
            command: None,
            config: Some(config),
            quiet: false,
            color: ColorWhen::Auto,
        },
        None => Cli::parse_from(&args),
    };
    Paint::choose(match cli.color {
        ColorWhen::Auto => None,
        ColorWhen::Always => Some(true),
        ColorWhen::Never => Some(false),
    });
    let quiet = cli.quiet;
    let paint = Paint::detect_stderr();
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
                // --quiet: errors only.
                if quiet && !(line.starts_with("error:") || line.contains(": error: ")) {
                    continue;
                }
                eprintln!("{}", paint.message(line));
            }
            report.exit
        }
        Err(err) => {
            eprintln!("{}", paint.message(&format!("error: {err:#}")));
            Exit::Failure
        }
    };
    exit.into()
}
