//! The benchmark driver that `scripts/bench` calls, one section at a time;
//! every figure goes to standard output as a JSON line, progress to
//! standard error.
//!
//! ```text
//! bench cold-start  <bin dir> <runs> <events>   figures 1 and 4 (functions)
//! bench throughput  <bin dir> <seconds> <scratch dir> [cheap|hashing|peer|all]
//!                                               figures 3 and 4 (local API), all parts by default
//! bench capacity                                figure 5 (DynamoDB on moto)
//! bench criterion   <criterion home> [prefix]   figure 2 and 5 (scale), from criterion's output,
//!                                               named <prefix>.<id> (warm by default)
//! bench sizes       <bin dir>                   figure 4 (sizes)
//! bench table       <figures file>              derived ratios and the table
//! ```

mod driver {
    pub mod capacity;
    pub mod cold_start;
    pub mod emulator;
    pub mod moto;
    pub mod procfs;
    pub mod report;
    pub mod throughput;
}

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use driver::{capacity, cold_start, report, throughput};

/// The checkout this crate lives in.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Waits until something accepts connections on `addr`.
pub fn wait_for_port(addr: &str, timeout: Duration) -> Result<(), String> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("nothing answered on {addr} within {timeout:?}"))
}

fn arg(args: &[String], i: usize, what: &str) -> Result<String, String> {
    args.get(i).cloned().ok_or_else(|| format!("missing argument: {what}"))
}

fn number(args: &[String], i: usize, what: &str) -> Result<u64, String> {
    arg(args, i, what)?.parse().map_err(|_| format!("{what} must be a whole number"))
}

async fn run(args: &[String]) -> Result<(), String> {
    match args.get(1).map(String::as_str) {
        Some("cold-start") => {
            let options = cold_start::Options {
                bin_dir: arg(args, 2, "bin dir")?.into(),
                runs: number(args, 3, "runs")? as usize,
                events: number(args, 4, "events")? as usize,
            };
            cold_start::run(&options).await
        }
        Some("throughput") => {
            let options = throughput::Options {
                bin_dir: arg(args, 2, "bin dir")?.into(),
                duration: Duration::from_secs(number(args, 3, "seconds")?),
                scratch: arg(args, 4, "scratch dir")?.into(),
                connections: 64,
                hash_connections: 8,
            };
            let part = match args.get(5) {
                Some(name) => throughput::Part::parse(name)?,
                None => throughput::Part::All,
            };
            throughput::run(&options, part).await
        }
        Some("capacity") => capacity::run().await,
        Some("criterion") => {
            let prefix = args.get(3).map_or("warm", String::as_str);
            report::criterion(&PathBuf::from(arg(args, 2, "criterion home")?), prefix)
        }
        Some("sizes") => {
            let bin_dir = PathBuf::from(arg(args, 2, "bin dir")?);
            let binaries = ["send-sms", "check-mobile", "register", "login", "local-api", "probe", "floor"];
            report::sizes(&bin_dir, &binaries, &workspace_root().join("target/lambda"))
        }
        Some("table") => report::table(&PathBuf::from(arg(args, 2, "figures file")?)),
        _ => Err("usage: bench cold-start|throughput|capacity|criterion|sizes|table … (see scripts/bench)".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // reqwest clients (the register flow, seeding) need a rustls provider.
    signup::tls::install_provider();
    // The register flow's visitors share the machine with the server they
    // load: on one thread they hand off and wake less, and leave the
    // hashing threads more of the cores. `cold-start` serves the Lambda
    // Runtime API emulator while it waits on a child, so the other commands
    // keep Tokio's default of a worker per core.
    let runtime = match args.get(1).map(String::as_str) {
        Some("throughput") => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: a Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
