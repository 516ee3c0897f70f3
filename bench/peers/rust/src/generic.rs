// SPDX-License-Identifier: MIT
//! W1-W6 and W10 written once and stamped out for each channel kit of
//! kits.rs. Producers and consumers are tokio tasks on the 2-worker runtime;
//! the consumer drains the receiver as a Stream (`StreamExt::next`,
//! `chunks(64)`, `select_all`), as BENCH.md asks.
use crate::Run;
use futures::{Stream, StreamExt};

/// Drains a stream item by item (`next`), summing and counting.
pub async fn drain<S: Stream<Item = u64> + Unpin>(mut s: S) -> Run {
    let mut r = Run::default();
    while let Some(v) = s.next().await {
        r.add(v);
    }
    r
}

/// Drains a stream through futures' `chunks(64)`, summing each chunk.
pub async fn drain_chunks<S: Stream<Item = u64> + Unpin>(s: S) -> Run {
    let mut r = Run::default();
    let mut chunks = s.chunks(64);
    while let Some(c) = chunks.next().await {
        let part: u64 = c.iter().fold(0u64, |a, &v| a.wrapping_add(v));
        r.sum = r.sum.wrapping_add(part);
        r.count += c.len() as u64;
    }
    r
}

macro_rules! workloads {
    ($kit:ident) => {
        #[allow(dead_code)]
        pub mod $kit {
            use super::{drain, drain_chunks};
            use crate::kits::$kit as k;
            use crate::{Run, N};
            use tokio::spawn;

            pub async fn run(w: u32) -> Run {
                match w {
                    1 => spsc(false).await,
                    2 => mpsc().await,
                    3 => unbounded().await,
                    4 => ping_pong().await,
                    5 => spsc(true).await,
                    6 => blocking_producer().await,
                    10 => fan_in().await,
                    _ => unreachable!(),
                }
            }

            /// Sends lo..hi one item per send.
            async fn produce(tx: k::Tx, lo: u64, hi: u64) {
                for i in lo..hi {
                    k::send(&tx, i).await;
                }
            }

            /// W1 (chunked = false) and W5 (chunked = true).
            async fn spsc(chunked: bool) -> Run {
                let (tx, rx) = k::bounded(1024);
                let consumer = if chunked {
                    spawn(drain_chunks(k::stream(rx)))
                } else {
                    spawn(drain(k::stream(rx)))
                };
                spawn(produce(tx, 0, N)).await.unwrap();
                consumer.await.unwrap()
            }

            /// W2: 4 producers x N/4 into one bounded(1024), one stream consumer.
            async fn mpsc() -> Run {
                let (tx, rx) = k::bounded(1024);
                let consumer = spawn(drain(k::stream(rx)));
                let part = N / 4;
                let producers: Vec<_> =
                    (0..4).map(|p| spawn(produce(tx.clone(), p * part, (p + 1) * part))).collect();
                drop(tx);
                for p in producers {
                    p.await.unwrap();
                }
                consumer.await.unwrap()
            }

            /// W3: an unbounded channel, the producer never waits.
            async fn unbounded() -> Run {
                let (tx, rx) = k::unbounded();
                let consumer = spawn(drain(k::ustream(rx)));
                spawn(async move {
                    for i in 0..N {
                        k::usend(&tx, i);
                    }
                })
                .await
                .unwrap();
                consumer.await.unwrap()
            }

            /// W4: two tasks, two bounded(1) channels, ROUND_TRIPS round trips.
            async fn ping_pong() -> Run {
                let (ping_tx, mut ping_rx) = k::bounded(1);
                let (pong_tx, mut pong_rx) = k::bounded(1);
                let echo = spawn(async move {
                    while let Some(v) = k::recv(&mut ping_rx).await {
                        k::send(&pong_tx, v).await;
                    }
                });
                let pinger = spawn(async move {
                    let mut r = Run::default();
                    for i in 0..crate::tokio_only::ROUND_TRIPS {
                        k::send(&ping_tx, i).await;
                        r.add(k::recv(&mut pong_rx).await.expect("echo gone"));
                    }
                    r
                });
                let r = pinger.await.unwrap();
                echo.await.unwrap();
                r
            }

            /// W6 for peers with a native blocking send: a plain OS thread
            /// sends into the bounded(1024) channel; a task streams it out.
            async fn blocking_producer() -> Run {
                let (tx, rx) = k::bounded(1024);
                let consumer = spawn(drain(k::stream(rx)));
                let producer = std::thread::spawn(move || {
                    for i in 0..N {
                        k::send_blocking(&tx, i);
                    }
                });
                let r = consumer.await.unwrap();
                producer.join().unwrap();
                r
            }

            /// W10: 8 bounded(256) channels, 8 producers, one merged stream.
            async fn fan_in() -> Run {
                let part = N / 8;
                let mut streams = Vec::new();
                let mut producers = Vec::new();
                for p in 0..8 {
                    let (tx, rx) = k::bounded(256);
                    streams.push(k::stream(rx));
                    producers.push((tx, p * part, (p + 1) * part));
                }
                let consumer = spawn(drain(futures::stream::select_all(streams)));
                let producers: Vec<_> =
                    producers.into_iter().map(|(tx, lo, hi)| spawn(produce(tx, lo, hi))).collect();
                for p in producers {
                    p.await.unwrap();
                }
                consumer.await.unwrap()
            }
        }
    };
}

workloads!(tokio_kit);
workloads!(flume_kit);
workloads!(async_channel_kit);
