//! `leadgate`: argument parsing and exit codes; everything else lives in the library.

fn main() -> std::process::ExitCode {
    leadgate::cli::main()
}
