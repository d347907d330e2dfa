use std::process::ExitCode;

fn main() -> ExitCode {
    redact::cli::run(std::env::args_os())
}
