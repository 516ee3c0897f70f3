// SPDX-License-Identifier: MIT
//! tokio's networking workloads (bench/README.md): W11 (N1) 1-byte TCP
//! ping-pong, W12 (N2) echo throughput, W13 (N3) idle connections and W14
//! (N4) lines. As in rill's and Go's programs, the client (W11) or writer
//! (W14) is another process: this binary run again as
//! `rill-peers helper <W> <port>`; W12's and W13's clients are the load
//! generator every implementation shares (bench/clients/net_load.c). The
//! server's clock starts once that process is started, before the accept,
//! and stops when the peer's end of file has been read.
use crate::Run;
use futures::StreamExt;
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, LinesCodec};

/// W11: round trips the client makes.
pub const TCP_ROUND_TRIPS: u64 = 100_000;
/// W14: line length (79 bytes and its '\n') and the bytes written.
pub const LINE_LEN: u64 = 80;
pub const LINES_BYTES: u64 = (1 << 30) / LINE_LEN * LINE_LEN;
/// W14: read buffer and longest line, as rill's (64 KiB chunks,
/// lines(4096)) and Go's (bufio.Scanner's 64 KiB buffer, 4096 max).
const READ_BUF: usize = 64 * 1024;
const MAX_LINE: usize = 4096;
/// W12: connections, 64-byte messages per connection (one in flight).
const ECHO_CONNS: u64 = 100;
const ECHO_MSGS: u64 = 2000;
const ECHO_MSG: u64 = 64;
/// W13: idle connections.
const IDLE_CONNS: u64 = 10_000;

/// What a networking workload measured: the run (checked against want)
/// and its metric.
pub struct Outcome {
    pub run: Run,
    pub want_count: u64,
    pub want_sum: u64,
    pub metric: f64,
    pub unit: &'static str,
}

/// Runs W11, W12, W13 or W14 as the server on rt; the helper process is
/// started here and must exit 0 for the check to pass.
pub fn server(w: u32, rt: &tokio::runtime::Runtime) -> Outcome {
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("listen on 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    if w == 12 || w == 13 {
        return echo_workload(w, rt, listener, port);
    }
    let mut helper = spawn_helper(w, port);
    let t0 = Instant::now();
    let mut run = match w {
        11 => rt.block_on(async { tokio::spawn(ping_pong_server(listener)).await.unwrap() }),
        14 => rt.block_on(async { tokio::spawn(lines_server(listener)).await.unwrap() }),
        _ => unreachable!(),
    };
    let secs = t0.elapsed().as_secs_f64();
    if !helper.wait().map(|s| s.success()).unwrap_or(false) {
        run.bad += 1;
    }
    match w {
        11 => Outcome {
            run,
            want_count: TCP_ROUND_TRIPS,
            want_sum: (0..TCP_ROUND_TRIPS).map(|i| i as u8 as u64).sum(),
            metric: secs * 1e9 / TCP_ROUND_TRIPS as f64,
            unit: "ns",
        },
        _ => Outcome {
            run,
            want_count: LINES_BYTES / LINE_LEN,
            want_sum: LINES_BYTES,
            metric: run.sum as f64 / secs / 1e6,
            unit: "MB/s",
        },
    }
}

fn spawn_helper(w: u32, port: u16) -> Child {
    Command::new("/proc/self/exe")
        .args(["helper", &format!("W{w}"), &port.to_string()])
        .spawn()
        .expect("start the helper process")
}

/// W11's server: echoes each byte; the sum and count are of the bytes.
async fn ping_pong_server(listener: TcpListener) -> Run {
    let (mut s, _) = listener.accept().await.expect("accept");
    s.set_nodelay(true).expect("TCP_NODELAY");
    let mut r = Run::default();
    let mut b = [0u8; 1];
    while let Ok(1) = s.read(&mut b).await {
        if s.write_all(&b).await.is_err() {
            break;
        }
        r.add(b[0] as u64);
    }
    r
}

/// W14's server: the connection split into lines and counted (sum: the
/// bytes, each line's '\n' included), by `BufReader::lines` (64 KiB
/// buffer), the faster of tokio's two ways here (docs/performance.md);
/// `TOKIO_LINES=codec` picks `FramedRead` + `LinesCodec` (max line 4,096,
/// 64 KiB buffer) instead.
async fn lines_server(listener: TcpListener) -> Run {
    let (s, _) = listener.accept().await.expect("accept");
    let mut r = Run::default();
    if std::env::var("TOKIO_LINES").as_deref() != Ok("codec") {
        let mut lines = BufReader::with_capacity(READ_BUF, s).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => r.add(line.len() as u64 + 1),
                Ok(None) => break,
                Err(_) => {
                    r.bad += 1;
                    break;
                }
            }
        }
    } else {
        let codec = LinesCodec::new_with_max_length(MAX_LINE);
        let mut lines = FramedRead::with_capacity(s, codec, READ_BUF);
        while let Some(line) = lines.next().await {
            match line {
                Ok(line) => r.add(line.len() as u64 + 1),
                Err(_) => {
                    r.bad += 1;
                    break;
                }
            }
        }
    }
    r
}

/// The helper process: `rill-peers helper W11 <port>` (the ping-pong
/// client, on its own 2-worker tokio runtime, as rill's and Go's clients
/// use their runtimes) or `helper W14 <port>` (the writer: plain blocking
/// writes of whole lines, as rill's writer). Exits 0 when all went well.
pub fn helper(w: u32, port: u16) -> ! {
    let ok = match w {
        11 => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_io()
                .build()
                .expect("tokio runtime");
            rt.block_on(async { tokio::spawn(ping_pong_client(port)).await.unwrap_or(false) })
        }
        14 => lines_writer(port).is_ok(),
        _ => false,
    };
    std::process::exit(if ok { 0 } else { 2 })
}

async fn ping_pong_client(port: u16) -> bool {
    let mut c = match TcpStream::connect(("127.0.0.1", port)).await {
        Ok(c) => c,
        Err(_) => return false,
    };
    if c.set_nodelay(true).is_err() {
        return false;
    }
    let mut back = [0u8; 1];
    for i in 0..TCP_ROUND_TRIPS {
        let one = [i as u8];
        if c.write_all(&one).await.is_err() || c.read_exact(&mut back).await.is_err() {
            return false;
        }
        if back != one {
            return false;
        }
    }
    true
}

fn lines_writer(port: u16) -> std::io::Result<()> {
    let mut block = vec![0u8; LINE_LEN as usize * 819]; // 65,520 bytes: whole lines
    for (i, b) in block.iter_mut().enumerate() {
        *b = if i as u64 % LINE_LEN == LINE_LEN - 1 { b'\n' } else { b'a' + (i % 26) as u8 };
    }
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port))?;
    let mut sent = 0u64;
    while sent < LINES_BYTES {
        let n = block.len().min((LINES_BYTES - sent) as usize);
        c.write_all(&block[..n])?;
        sent += n as u64;
    }
    Ok(())
}

/// What the connection tasks of the echo server count.
#[derive(Default)]
struct Echo {
    bytes: AtomicU64,
    conns: AtomicU64,
    bad: AtomicU64,
    /// W13: when bytes reaches notify_at, the task that got it there
    /// measures the resident memory into rss_idle and closes the load
    /// generator's standard input (its signal to let go).
    notify_at: u64,
    rss_idle: AtomicI64,
    release: Mutex<Option<ChildStdin>>,
}

/// One connection: read into a 1 KiB buffer, write it back, until the
/// client's end of file (tokio's own echo example, with TCP_NODELAY as
/// the other servers have it).
async fn echo_conn(mut s: TcpStream, e: Arc<Echo>) {
    let mut buf = [0u8; 1024];
    let ok = s.set_nodelay(true).is_ok();
    loop {
        match s.read(&mut buf).await {
            Ok(0) if ok => break,
            Ok(n) if ok => {
                if s.write_all(&buf[..n]).await.is_err() {
                    e.bad.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                // Relaxed: counters, read after every task was joined; the
                // one add that reaches notify_at is unique in any order.
                let total = e.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
                if total == e.notify_at {
                    e.rss_idle.store(rss_bytes(), Ordering::Relaxed);
                    drop(e.release.lock().unwrap().take());
                }
            }
            _ => {
                e.bad.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
    }
    e.conns.fetch_add(1, Ordering::Relaxed);
}

/// Accepts n connections, each served by its own task; returns once all
/// of them ended.
async fn echo_serve(listener: TcpListener, n: u64, e: Arc<Echo>) {
    let mut tasks = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (s, _) = listener.accept().await.expect("accept");
        tasks.push(tokio::spawn(echo_conn(s, e.clone())));
    }
    drop(listener);
    for t in tasks {
        t.await.expect("connection task panicked");
    }
}

/// W12 (messages per second through 100 echoing connections) and W13
/// (resident bytes per idle connection).
fn echo_workload(w: u32, rt: &tokio::runtime::Runtime, listener: TcpListener, port: u16) -> Outcome {
    let mut e = Echo::default();
    let (n, mut load, before) = if w == 12 {
        let args = ["echo", &port.to_string(), &ECHO_CONNS.to_string(), &ECHO_MSGS.to_string()];
        (ECHO_CONNS, net_load(&args).spawn().expect("start net_load"), 0)
    } else {
        let n = IDLE_CONNS.min(raise_fd_limit(IDLE_CONNS + 256).saturating_sub(256));
        if n < IDLE_CONNS {
            eprintln!("rill-peers: the fd limit allows {n} connections, not {IDLE_CONNS}");
        }
        let before = rss_bytes();
        let mut load = net_load(&["idle", &port.to_string(), &n.to_string()])
            .stdin(Stdio::piped())
            .spawn()
            .expect("start net_load");
        e.notify_at = n;
        e.release = Mutex::new(load.stdin.take());
        (n, load, before)
    };
    let e = Arc::new(e);
    let t0 = Instant::now();
    let e2 = e.clone();
    rt.block_on(async move { tokio::spawn(echo_serve(listener, n, e2)).await.unwrap() });
    let secs = t0.elapsed().as_secs_f64();
    let load_ok = load.wait().map(|s| s.success()).unwrap_or(false);
    let bytes = e.bytes.load(Ordering::Relaxed);
    // The check: count = connections served to their end, sum = bytes
    // echoed; bad counts errors and a load generator that failed.
    let run = Run {
        sum: bytes,
        count: e.conns.load(Ordering::Relaxed),
        bad: e.bad.load(Ordering::Relaxed) + u64::from(!load_ok),
    };
    if w == 12 {
        Outcome {
            run,
            want_count: ECHO_CONNS,
            want_sum: ECHO_CONNS * ECHO_MSGS * ECHO_MSG,
            metric: bytes as f64 / ECHO_MSG as f64 / secs / 1e3,
            unit: "kmsg/s",
        }
    } else {
        let idle = e.rss_idle.load(Ordering::Relaxed);
        Outcome {
            run: Run { bad: run.bad + u64::from(idle == 0), ..run },
            want_count: n,
            want_sum: n,
            metric: (idle - before) as f64 / n as f64,
            unit: "B",
        }
    }
}

/// The shared load generator: $RILL_BENCH_NET_LOAD (bench/run.py sets it).
fn net_load(args: &[&str]) -> Command {
    let path = std::env::var("RILL_BENCH_NET_LOAD").unwrap_or_else(|_| {
        eprintln!("rill-peers: set RILL_BENCH_NET_LOAD to bench/bin/net_load");
        std::process::exit(2)
    });
    let mut c = Command::new(path);
    c.args(args);
    c
}

/// This process's resident set now (/proc/self/statm), in bytes.
fn rss_bytes() -> i64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: i64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as i64
}

/// Raises the soft limit on fds towards want (up to the hard limit);
/// returns the soft limit now.
fn raise_fd_limit(want: u64) -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is a valid rlimit for the calls to fill or read.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}
