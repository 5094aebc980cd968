//! The cluster's subcommands, for the `squall` command and for users' binaries
//! ([`main`]): `run`, `worker`, `submit`, `cluster status`, `kill`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::buckets::Cluster;
use crate::client::{self, Submission, SubmitError};
use crate::deployment::State;
use crate::error::ClusterError;
use crate::registry::Registry;

/// `worker`.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// The cluster's NATS server (with JetStream).
    #[arg(long, value_name = "nats://HOST:PORT")]
    pub cluster: String,
    /// This worker's name, unique in the cluster; default: host name and process id.
    #[arg(long)]
    pub name: Option<String>,
}

/// `submit`.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// The cluster's NATS server (with JetStream).
    #[arg(long, value_name = "nats://HOST:PORT")]
    pub cluster: String,
    /// The deployment's name; default: the topology's.
    #[arg(long, value_name = "DEPLOYMENT")]
    pub name: Option<String>,
    /// Wait until the deployment ends and print its summary as `run` does (exit 1 if it
    /// failed or was killed). Also accepted after the topology's options.
    #[arg(long)]
    pub wait: bool,
    /// The topology.
    pub topology: String,
    /// The topology's options, as for `run TOPOLOGY`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub options: Vec<String>,
}

/// `cluster`.
#[derive(Debug, Clone, Subcommand)]
pub enum ClusterCommand {
    /// Workers, deployments and which worker runs which task.
    Status(StatusArgs),
}

/// `cluster status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The cluster's NATS server.
    #[arg(long, value_name = "nats://HOST:PORT")]
    pub cluster: String,
}

/// `kill`.
#[derive(Debug, Clone, Args)]
pub struct KillArgs {
    /// The cluster's NATS server.
    #[arg(long, value_name = "nats://HOST:PORT")]
    pub cluster: String,
    /// The deployment.
    pub deployment: String,
}

/// The subcommands of a binary served by [`main`].
#[derive(Debug, Parser)]
#[command(about = "Run topologies here or on a Squall cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the topologies this binary serves.
    List,
    /// Run a topology in this process.
    Run {
        /// The topology.
        topology: String,
        /// Its options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        options: Vec<String>,
    },
    /// Join a cluster and run its parts until SIGTERM or SIGINT.
    Worker(WorkerArgs),
    /// Submit a deployment to a cluster.
    Submit(SubmitArgs),
    /// Look at a cluster.
    Cluster {
        /// What to look at.
        #[command(subcommand)]
        command: ClusterCommand,
    },
    /// Drain a deployment and remove it.
    Kill(KillArgs),
}

/// Serves `registry`'s topologies with the subcommands `list`, `run TOPOLOGY [options]`,
/// `worker`, `submit`, `cluster status` and `kill` (the process's arguments).
pub fn main(registry: Registry) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let registry = Arc::new(registry);
    match cli.command {
        Command::List => {
            for (name, about) in registry.list() {
                println!("{name:<24} {about}");
            }
            ExitCode::SUCCESS
        }
        Command::Run { topology, options } => run(&registry, &topology, &options),
        Command::Worker(a) => worker(registry, &a),
        Command::Submit(a) => submit(&registry, &a),
        Command::Cluster {
            command: ClusterCommand::Status(a),
        } => status(&registry, &a),
        Command::Kill(a) => kill(&a),
    }
}

/// `run TOPOLOGY [options]`: prepares and runs it in this process, its summary on stderr.
pub fn run(registry: &Registry, topology: &str, options: &[String]) -> ExitCode {
    let prepared = match registry.prepare(topology, options) {
        Ok(p) => p,
        Err(sentence) => return fail(2, &sentence),
    };
    let cluster = squall::LocalCluster::new(prepared.config);
    match cluster.run_until_signal(prepared.topology) {
        Ok(report) => {
            eprint!("{}", ensure_newline((prepared.summary)(&report)));
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e.to_string()),
    }
}

/// `worker`: exit 0 once it left after a stop signal.
pub fn worker(registry: Arc<Registry>, args: &WorkerArgs) -> ExitCode {
    match crate::worker::run(registry, &args.cluster, args.name.clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(1, &e.to_string()),
    }
}

/// `submit`: 2 for options that do not prepare, 1 when refused or (with `--wait`) when the
/// deployment failed or was killed.
pub fn submit(registry: &Registry, args: &SubmitArgs) -> ExitCode {
    let mut wait = args.wait;
    let options: Vec<String> = args
        .options
        .iter()
        .filter(|o| {
            let flag = *o == "--wait";
            wait |= flag;
            !flag
        })
        .cloned()
        .collect();
    let submission = Submission {
        name: args.name.clone().unwrap_or_else(|| args.topology.clone()),
        topology: args.topology.clone(),
        options,
    };
    let outcome = block_on(async {
        let cluster = Cluster::connect(&args.cluster).await?;
        let d = client::submit(&cluster, registry, &submission).await?;
        eprintln!(
            "submitted deployment {} ({})",
            submission.name, submission.topology
        );
        if !wait {
            return Ok(None);
        }
        Ok::<_, SubmitError>(Some(
            client::wait_end(&cluster, &submission.name, d.submitted_ms).await?,
        ))
    });
    match outcome {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(Some(d))) => match d.state {
            State::Done => {
                eprint!("{}", ensure_newline(d.summary.unwrap_or_default()));
                ExitCode::SUCCESS
            }
            State::Failed => fail(1, &d.error.unwrap_or_else(|| "it failed".into())),
            _ => fail(1, &format!("deployment {} was killed", submission.name)),
        },
        Ok(Some(None)) => fail(1, &format!("deployment {} was killed", submission.name)),
        Err(SubmitError::Options(sentence)) => fail(2, &sentence),
        Err(e) => fail(1, &e.to_string()),
    }
}

/// `cluster status`: the tables on stdout.
pub fn status(registry: &Registry, args: &StatusArgs) -> ExitCode {
    let report = block_on(async {
        let cluster = Cluster::connect(&args.cluster).await?;
        crate::status::report(&cluster, registry).await
    });
    match report {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e.to_string()),
    }
}

/// `kill`: exit 0 once the deployment was drained and removed.
pub fn kill(args: &KillArgs) -> ExitCode {
    let result = block_on(async {
        let cluster = Cluster::connect(&args.cluster).await?;
        client::kill(&cluster, &args.deployment).await
    });
    match result {
        Ok(State::Killing) => {
            eprintln!("deployment {} killed", args.deployment);
            ExitCode::SUCCESS
        }
        Ok(state) => {
            eprintln!(
                "deployment {} had ended ({}); removed",
                args.deployment,
                state.word()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e.to_string()),
    }
}

fn fail(code: u8, sentence: &str) -> ExitCode {
    eprintln!("error: {sentence}");
    ExitCode::from(code)
}

fn ensure_newline(mut text: String) -> String {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// Runs `future` on a runtime of its own (the client commands are short).
fn block_on<T, E: From<ClusterError>>(
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ClusterError::Refused(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(future)
}
