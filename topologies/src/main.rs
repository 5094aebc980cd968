//! The `squall` command; see `squall --help`.

fn main() -> std::process::ExitCode {
    // A panic in a bolt or spout is caught, reported once by the run and the task restarted:
    // one line on stderr each, never a backtrace per restart.
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
    squall_topologies::cli::main_with(std::env::args())
}
