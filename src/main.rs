//! The `intake` binary: everything happens in [`intake::cli::main`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(intake::cli::main())
}
