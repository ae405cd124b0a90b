//! `kubevault completion SHELL` and `kubevault man [COMMAND]`: the shell completion script and the
//! manual page, generated from the clap definitions in [`crate::cli`] (so they never drift from
//! the real flags), printed on stdout.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit::Exit;
use crate::report::Report;

/// The completion script for `shell`.
pub fn completion(shell: clap_complete::Shell) -> Report {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "kubevault", &mut out);
    Report {
        stdout: vec![String::from_utf8_lossy(&out).into_owned()],
        messages: Vec::new(),
        exit: Exit::Success,
    }
}

/// The roff manual page of kubevault, or of one subcommand (`kubevault-generate(1)`).
pub fn man(subcommand: Option<&str>) -> Report {
    let mut command = Cli::command();
    command.build();
    let page = match subcommand {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => {
                let title = format!("kubevault-{}", sub.get_name());
                sub.clone().name(title)
            }
            None => {
                let known: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
                return Report {
                    stdout: Vec::new(),
                    messages: vec![format!(
                        "error: no subcommand {name:?}; the pages are: {}",
                        known.join(", ")
                    )],
                    exit: Exit::Usage,
                };
            }
        },
    };
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    clap_mangen::Man::new(page)
        .render(&mut out)
        .expect("rendering into memory");
    Report {
        stdout: vec![String::from_utf8_lossy(&out).into_owned()],
        messages: Vec::new(),
        exit: Exit::Success,
    }
}
