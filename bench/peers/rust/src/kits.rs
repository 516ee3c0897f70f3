// SPDX-License-Identifier: MIT
//! One "channel kit" per Rust peer: the same few functions over tokio's,
//! flume's and async-channel's channels, so the workloads in generic.rs are
//! written once. Each function is the library's own idiomatic call; the
//! wrappers inline away in a release build.

pub mod tokio_kit {
    use tokio::sync::mpsc;
    use tokio_stream::wrappers::{ReceiverStream, UnboundedReceiverStream};

    pub type Tx = mpsc::Sender<u64>;
    pub type Rx = mpsc::Receiver<u64>;

    pub fn bounded(cap: usize) -> (Tx, Rx) {
        mpsc::channel(cap)
    }
    pub async fn send(tx: &Tx, v: u64) {
        tx.send(v).await.expect("receiver gone")
    }
    pub async fn recv(rx: &mut Rx) -> Option<u64> {
        rx.recv().await
    }
    pub fn send_blocking(tx: &Tx, v: u64) {
        tx.blocking_send(v).expect("receiver gone")
    }
    pub fn stream(rx: Rx) -> ReceiverStream<u64> {
        ReceiverStream::new(rx)
    }

    pub type UTx = mpsc::UnboundedSender<u64>;
    pub fn unbounded() -> (UTx, mpsc::UnboundedReceiver<u64>) {
        mpsc::unbounded_channel()
    }
    pub fn usend(tx: &UTx, v: u64) {
        tx.send(v).expect("receiver gone")
    }
    pub fn ustream(rx: mpsc::UnboundedReceiver<u64>) -> UnboundedReceiverStream<u64> {
        UnboundedReceiverStream::new(rx)
    }
}

pub mod flume_kit {
    pub type Tx = flume::Sender<u64>;
    pub type Rx = flume::Receiver<u64>;

    pub fn bounded(cap: usize) -> (Tx, Rx) {
        flume::bounded(cap)
    }
    pub async fn send(tx: &Tx, v: u64) {
        tx.send_async(v).await.expect("receiver gone")
    }
    pub async fn recv(rx: &mut Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
    pub fn send_blocking(tx: &Tx, v: u64) {
        tx.send(v).expect("receiver gone")
    }
    pub fn stream(rx: Rx) -> flume::r#async::RecvStream<'static, u64> {
        rx.into_stream()
    }

    pub type UTx = flume::Sender<u64>;
    pub fn unbounded() -> (UTx, Rx) {
        flume::unbounded()
    }
    pub fn usend(tx: &UTx, v: u64) {
        tx.send(v).expect("receiver gone")
    }
    pub fn ustream(rx: Rx) -> flume::r#async::RecvStream<'static, u64> {
        rx.into_stream()
    }
}

pub mod async_channel_kit {
    pub type Tx = async_channel::Sender<u64>;
    pub type Rx = async_channel::Receiver<u64>;

    pub fn bounded(cap: usize) -> (Tx, Rx) {
        async_channel::bounded(cap)
    }
    pub async fn send(tx: &Tx, v: u64) {
        tx.send(v).await.expect("receiver gone")
    }
    pub async fn recv(rx: &mut Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
    pub fn send_blocking(tx: &Tx, v: u64) {
        tx.send_blocking(v).expect("receiver gone")
    }
    /// An async-channel Receiver is itself a Stream.
    pub fn stream(rx: Rx) -> Rx {
        rx
    }

    pub type UTx = async_channel::Sender<u64>;
    pub fn unbounded() -> (UTx, Rx) {
        async_channel::unbounded()
    }
    pub fn usend(tx: &UTx, v: u64) {
        // An unbounded channel is never full: try_send is its non-waiting send.
        tx.try_send(v).expect("receiver gone")
    }
    pub fn ustream(rx: Rx) -> Rx {
        rx
    }
}
