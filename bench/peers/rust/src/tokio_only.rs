// SPDX-License-Identifier: MIT
//! The tokio workloads that do not fit the generic channel kit: W6 with the
//! seed article's std-to-tokio bridge, W7 broadcast, W8 many tasks, W9
//! for_each_concurrent.
use crate::generic::drain;
use crate::{Run, N};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::spawn;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream, ReceiverStream};

pub const ROUND_TRIPS: u64 = 1_000_000;
pub const BCAST_ITEMS: u64 = 1_000_000;
pub const TASKS: u64 = 100_000;
pub const SLEEPERS: u64 = 10_000;
/// W15: tasks, and yield_now calls of each.
pub const YIELD_TASKS: u64 = 10_000;
pub const YIELDS_EACH: u64 = 1_000;

/// W6 exactly as the seed article bridges a std channel into a stream: the
/// OS thread sends into `sync_channel(1024)`; a `spawn_blocking` forwarder
/// `blocking_send`s each item into a tokio mpsc(1024); the consumer task
/// drains its `ReceiverStream`.
pub async fn w6_seed_bridge() -> Run {
    let (std_tx, std_rx) = std::sync::mpsc::sync_channel::<u64>(1024);
    let (tx, rx) = mpsc::channel::<u64>(1024);
    tokio::task::spawn_blocking(move || {
        while let Ok(v) = std_rx.recv() {
            if tx.blocking_send(v).is_err() {
                break;
            }
        }
    });
    let consumer = spawn(drain(ReceiverStream::new(rx)));
    let producer = std::thread::spawn(move || {
        for i in 0..N {
            std_tx.send(i).expect("bridge gone");
        }
    });
    let r = consumer.await.unwrap();
    producer.join().unwrap();
    r
}

/// One receiver's progress, alone on its cache line (the sender reads all).
#[repr(align(128))]
#[derive(Default)]
struct Progress(AtomicU64);

/// W7: tokio's broadcast(1024), 4 receivers each a `BroadcastStream`.
/// tokio's broadcast never makes the sender wait (a slow receiver lags and
/// loses items), and BENCH.md wants every receiver to see every item, so
/// the sender adds the missing backpressure: each receiver publishes its
/// count, and the sender yields while it is a full capacity ahead of the
/// slowest. A lagged item still counts as bad (the check fails).
pub async fn w7() -> Run {
    const CAP: u64 = 1024;
    let (tx, _) = broadcast::channel::<u64>(CAP as usize);
    let progress: Arc<[Progress; 4]> = Arc::new(Default::default());
    let receivers: Vec<_> = (0..4)
        .map(|i| {
            let mut s = BroadcastStream::new(tx.subscribe());
            let progress = progress.clone();
            spawn(async move {
                let mut r = Run::default();
                while let Some(x) = s.next().await {
                    match x {
                        Ok(v) => {
                            r.add(v);
                            // Release: pairs with the sender's Acquire load
                            // before it reuses the slot this item came from.
                            progress[i].0.store(r.count, Ordering::Release);
                        }
                        Err(BroadcastStreamRecvError::Lagged(n)) => r.bad += n,
                    }
                }
                r
            })
        })
        .collect();
    let sender = spawn(async move {
        let mut slowest = 0u64;
        for i in 0..BCAST_ITEMS {
            while i - slowest >= CAP {
                slowest = progress.iter().map(|p| p.0.load(Ordering::Acquire)).min().unwrap();
                if i - slowest >= CAP {
                    tokio::task::yield_now().await;
                }
            }
            tx.send(i).expect("no receivers");
        }
    });
    sender.await.unwrap();
    let mut total = Run::default();
    for r in receivers {
        total.merge(r.await.unwrap());
    }
    total
}

/// W8: spawn TASKS tasks each awaiting its own oneshot, then send to every
/// one and join them all (each returns what it received).
pub async fn w8() -> Run {
    let mut senders = Vec::with_capacity(TASKS as usize);
    let mut handles = Vec::with_capacity(TASKS as usize);
    for _ in 0..TASKS {
        let (tx, rx) = oneshot::channel::<u64>();
        handles.push(spawn(async move { rx.await.expect("sender gone") }));
        senders.push(tx);
    }
    for (i, tx) in senders.into_iter().enumerate() {
        tx.send(i as u64).expect("task gone");
    }
    let mut r = Run::default();
    for h in handles {
        r.add(h.await.unwrap());
    }
    r
}

/// W9: SLEEPERS items from a channel stream through
/// `for_each_concurrent(64)`, each item sleeping 1 ms.
pub async fn w9() -> Run {
    let (tx, rx) = mpsc::channel::<u64>(1024);
    spawn(async move {
        for i in 0..SLEEPERS {
            tx.send(i).await.expect("receiver gone");
        }
    });
    let sum = AtomicU64::new(0);
    let count = AtomicU64::new(0);
    ReceiverStream::new(rx)
        .for_each_concurrent(64, |v| {
            let (sum, count) = (&sum, &count);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                sum.fetch_add(v, Ordering::Relaxed);
                count.fetch_add(1, Ordering::Relaxed);
            }
        })
        .await;
    // Relaxed is enough: for_each_concurrent has completed every item's
    // future on this task before it returns.
    Run { sum: sum.into_inner(), count: count.into_inner(), bad: 0 }
}

/// W15: YIELD_TASKS tasks each call `yield_now` YIELDS_EACH times, counting
/// their own yields; the total is checked.
pub async fn w15() -> Run {
    let mut handles = Vec::with_capacity(YIELD_TASKS as usize);
    for _ in 0..YIELD_TASKS {
        handles.push(spawn(async {
            let mut r = Run::default();
            for k in 0..YIELDS_EACH {
                tokio::task::yield_now().await;
                r.add(k);
            }
            r
        }));
    }
    let mut r = Run::default();
    for h in handles {
        r.merge(h.await.unwrap());
    }
    r
}
