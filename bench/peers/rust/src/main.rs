// SPDX-License-Identifier: MIT
//! The Rust peers of rill's benchmarks: `rill-peers <impl> <workload>`.
//!
//! impl is `tokio`, `flume`, `async-channel` or `async-broadcast`; workload is
//! `W1`..`W10` as defined in shared/BENCH.md, or tokio's networking workloads
//! W11..W14 (src/net.rs; also accepted: `1`, `w1`). Each
//! run does the workload once on a tokio multi-thread runtime with 2 workers
//! and prints one line
//! `RESULT metric=<number> unit=<unit> check=<ok|FAIL> sum=<sum>`;
//! the exit status is 0 only when the check passed. The runtime is built
//! before the clock starts; everything the workload does (channels, tasks,
//! threads) is inside the timed part.
use std::future::Future;
use std::time::Instant;

mod bcast;
mod generic;
mod kits;
mod net;
mod tokio_only;

/// Items in the throughput workloads (W1, W2, W3, W5, W6, W10).
pub const N: u64 = 10_000_000;

/// What a consumer saw: the checked sum and count of its items, and `bad`
/// for anything that must not happen (lagged broadcast items).
#[derive(Default, Clone, Copy)]
pub struct Run {
    pub sum: u64,
    pub count: u64,
    pub bad: u64,
}

impl Run {
    #[inline]
    pub fn add(&mut self, v: u64) {
        self.sum = self.sum.wrapping_add(v);
        self.count += 1;
    }
    pub fn merge(&mut self, o: Run) {
        self.sum = self.sum.wrapping_add(o.sum);
        self.count += o.count;
        self.bad += o.bad;
    }
}

/// Sum of 0..n.
pub fn tri(n: u64) -> u64 {
    n * (n - 1) / 2
}

enum Unit {
    /// items per second over `count` items, in millions
    Mitems,
    /// deliveries per second, in millions
    Mdeliveries,
    /// nanoseconds per one of `count` round trips
    NsEach,
    /// wall milliseconds
    Ms,
}

/// The expected (count, sum) of each workload and how its metric is reported.
fn spec(w: u32) -> (u64, u64, Unit) {
    match w {
        1 | 2 | 3 | 5 | 6 | 10 => (N, tri(N), Unit::Mitems),
        4 => (tokio_only::ROUND_TRIPS, tri(tokio_only::ROUND_TRIPS), Unit::NsEach),
        7 => (
            4 * tokio_only::BCAST_ITEMS,
            4 * tri(tokio_only::BCAST_ITEMS),
            Unit::Mdeliveries,
        ),
        8 => (tokio_only::TASKS, tri(tokio_only::TASKS), Unit::Ms),
        9 => (tokio_only::SLEEPERS, tri(tokio_only::SLEEPERS), Unit::Ms),
        15 => (
            tokio_only::YIELD_TASKS * tokio_only::YIELDS_EACH,
            tokio_only::YIELD_TASKS * tri(tokio_only::YIELDS_EACH),
            Unit::NsEach,
        ),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: rill-peers <tokio|flume|async-channel|async-broadcast> <W1..W14>\n       \
         rill-peers helper <W11|W14> <port>   (a networking workload's other process)"
    );
    std::process::exit(2)
}

/// Runs the workload's top future as a task on a worker (as every other
/// task of the workload) and waits for it from the main thread.
fn block<F: Future<Output = Run> + Send + 'static>(rt: &tokio::runtime::Runtime, f: F) -> Run {
    rt.block_on(async { tokio::spawn(f).await.expect("workload task panicked") })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 && !(args.len() == 4 && args[1] == "helper") {
        usage();
    }
    let imp = args[1].as_str();
    let w: u32 = args[2]
        .trim_start_matches(|c| c == 'W' || c == 'w')
        .parse()
        .unwrap_or_else(|_| usage());
    if imp == "helper" {
        net::helper(w, args[3].parse().unwrap_or_else(|_| usage()));
    }
    let net = imp == "tokio" && (11..=14).contains(&w);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(2).enable_time();
    if net {
        builder.enable_io();
    }
    let rt = builder.build().expect("tokio runtime");
    if net {
        let o = net::server(w, &rt);
        drop(rt);
        report(o.run, o.want_count, o.want_sum, o.metric, o.unit);
    }
    let (want_count, want_sum, unit) = spec(w);

    let t0 = Instant::now();
    let run = match (imp, w) {
        ("tokio", 6) => block(&rt, tokio_only::w6_seed_bridge()),
        ("tokio", 7) => block(&rt, tokio_only::w7()),
        ("tokio", 8) => block(&rt, tokio_only::w8()),
        ("tokio", 9) => block(&rt, tokio_only::w9()),
        ("tokio", 15) => block(&rt, tokio_only::w15()),
        ("tokio", _) => block(&rt, generic::tokio_kit::run(w)),
        ("flume", 1..=6 | 10) => block(&rt, generic::flume_kit::run(w)),
        ("async-channel", 1..=6 | 10) => block(&rt, generic::async_channel_kit::run(w)),
        ("async-broadcast", 7) => block(&rt, bcast::w7()),
        _ => {
            eprintln!("{imp} does not implement W{w}");
            std::process::exit(3)
        }
    };
    let secs = t0.elapsed().as_secs_f64();
    drop(rt);
    let (metric, unit) = match unit {
        Unit::Mitems => (run.count as f64 / secs / 1e6, "Mitems/s"),
        Unit::Mdeliveries => (run.count as f64 / secs / 1e6, "Mdeliveries/s"),
        Unit::NsEach => (secs * 1e9 / want_count as f64, "ns"),
        Unit::Ms => (secs * 1e3, "ms"),
    };
    report(run, want_count, want_sum, metric, unit);
}

/// Checks run against what the workload sent, prints the RESULT line and
/// exits: 0 only when the check passed.
fn report(run: Run, want_count: u64, want_sum: u64, metric: f64, unit: &str) -> ! {
    let ok = run.count == want_count && run.sum == want_sum && run.bad == 0;
    if !ok {
        eprintln!(
            "check failed: count {} (want {}), sum {} (want {}), bad {}",
            run.count, want_count, run.sum, want_sum, run.bad
        );
    }
    println!(
        "RESULT metric={metric:.3} unit={unit} check={} sum={}",
        if ok { "ok" } else { "FAIL" },
        run.sum
    );
    std::process::exit(if ok { 0 } else { 1 });
}
