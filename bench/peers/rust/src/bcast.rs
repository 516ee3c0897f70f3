// SPDX-License-Identifier: MIT
//! W7 on async-broadcast: broadcast(1024) whose sender waits when the
//! slowest receiver is a capacity behind (its default, overflow off), 4
//! receivers each consumed as a Stream.
use crate::generic::drain;
use crate::tokio_only::BCAST_ITEMS;
use crate::Run;
use tokio::spawn;

pub async fn w7() -> Run {
    let (tx, rx) = async_broadcast::broadcast::<u64>(1024);
    let receivers: Vec<_> = (0..4).map(|_| spawn(drain(rx.clone()))).collect();
    drop(rx);
    let sender = spawn(async move {
        for i in 0..BCAST_ITEMS {
            tx.broadcast(i).await.expect("no receivers");
        }
    });
    sender.await.unwrap();
    let mut total = Run::default();
    for r in receivers {
        total.merge(r.await.unwrap());
    }
    total
}
