//! The `squall` command; see `squall --help`.

fn main() -> std::process::ExitCode {
    squall_topologies::cli::main_with(std::env::args())
}
