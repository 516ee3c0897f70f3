// SPDX-License-Identifier: MIT

// The web workloads N5-N8 (W16-W19; bench/README.md): Go's net/http
// serving Server-Sent Events and Debian's gorilla/websocket serving
// WebSocket on the same path, fed by one hub. The clients are the shared
// load generator (bench/clients/net_load.c), another process, the same
// for rill.
//
// The hub is what a Go programmer writes for this: one buffered channel
// of events per client, sized to the same byte budget as rill's queue
// (budget / encoded size events). Each event is encoded once: the SSE
// bytes ("id: N\ndata: ...\n\n", the same bytes as rill's) are one []byte
// every SSE client writes, the WebSocket frame a gorilla PreparedMessage
// every WebSocket client writes. The publisher is one goroutine: for a
// lossless (BLOCK) client it waits on the channel send; for a
// DROP_OLDEST client it takes the oldest event out of a full channel and
// counts it. An SSE client's goroutine (net/http's handler) writes every
// event it finds waiting into the response's buffer, then flushes once;
// the response is close-delimited (Transfer-Encoding: identity, net/http's
// way for SSE), so the bytes on the wire are rill's. A WebSocket client's
// goroutine writes each event with WritePreparedMessage (gorilla writes
// one message per call) and a second goroutine reads, as gorilla needs for
// pings and the close handshake.
package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"
)

const (
	fanSSE, fanWS, fanEvents, fanData = 1000, 1000, 1000, 64 // N5
	latSSE, latWS, latRate, latEvents = 500, 500, 100, 300   // N6
	sseIdle                           = 10_000               // N7
	slowFastSSE, slowFastWS           = 495, 495             // N8
	slowSlow, slowEvents              = 10, 4000             // N8
	slowBudget                        = 64 * 1024            // N8
	slowSndbuf                        = 64 * 1024            // N8
	defaultBudget                     = 256 * 1024           // rill's
)

type webEvent struct {
	sse []byte
	ws  *websocket.PreparedMessage
}

type webClient struct {
	ch      chan *webEvent
	drop    bool          // DROP_OLDEST, else lossless
	gone    chan struct{} // closed when its handler returns
	ws      bool
	dropped atomic.Uint64
	sent    atomic.Uint64
}

type webHub struct {
	mu      sync.Mutex
	clients []*webClient // copied on change: the publisher reads a snapshot
	closed  bool
	joined  atomic.Int64 // connected now
	total   atomic.Int64 // ever
	sent    atomic.Uint64
	budget  int // bytes per client queue
	// a client of /events?slow is DROP_OLDEST; others per slowDrop
	defaultDrop bool
	evLen       int // the encoded SSE size, for the channel's capacity
}

func (h *webHub) join(c *webClient) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	cs := make([]*webClient, len(h.clients), len(h.clients)+1)
	copy(cs, h.clients)
	h.clients = append(cs, c)
	h.joined.Add(1)
	h.total.Add(1)
	return true
}

func (h *webHub) leave(c *webClient) {
	close(c.gone)
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := make([]*webClient, 0, len(h.clients))
	for _, o := range h.clients {
		if o != c {
			cs = append(cs, o)
		}
	}
	h.clients = cs
	h.joined.Add(-1)
}

func (h *webHub) snapshot() []*webClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clients
}

// publish encodes data once per protocol and queues it for every client.
func (h *webHub) publish(id int, data []byte) {
	sse := make([]byte, 0, len(data)+24)
	sse = append(sse, "id: "...)
	sse = strconv.AppendInt(sse, int64(id), 10)
	sse = append(sse, "\ndata: "...)
	sse = append(sse, data...)
	sse = append(sse, "\n\n"...)
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-peer: prepare:", err)
		os.Exit(1)
	}
	ev := &webEvent{sse, pm}
	for _, c := range h.snapshot() {
		if !c.drop {
			select {
			case c.ch <- ev:
			case <-c.gone:
			}
			continue
		}
		for { // DROP_OLDEST: make room by dropping the oldest
			select {
			case c.ch <- ev:
			default:
				select {
				case <-c.ch:
					c.dropped.Add(1)
				default:
				}
				continue
			}
			break
		}
	}
}

// close ends every client's channel: each ends after its last event.
func (h *webHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, c := range h.clients {
		close(c.ch)
	}
}

var upgrader = websocket.Upgrader{}

func (h *webHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/events" {
		http.NotFound(w, r)
		return
	}
	drop := h.defaultDrop || r.URL.RawQuery == "slow"
	budget := h.budget
	c := &webClient{ch: make(chan *webEvent, budget/h.evLen), drop: drop,
		gone: make(chan struct{})}
	if websocket.IsWebSocketUpgrade(r) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if !h.join(c) {
			return
		}
		defer h.leave(c)
		go func() { // control frames; ends when the connection does
			for {
				if _, _, err := conn.NextReader(); err != nil {
					return
				}
			}
		}()
		for ev := range c.ch {
			if err := conn.WritePreparedMessage(ev.ws); err != nil {
				return
			}
			c.sent.Add(1)
			h.sent.Add(1)
		}
		conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
			time.Now().Add(time.Second))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Transfer-Encoding", "identity") // close-delimited, no chunks
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	fl.Flush()
	if !h.join(c) {
		return
	}
	defer h.leave(c)
	done := r.Context().Done()
	for {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				return
			}
			n := uint64(1)
			if _, err := w.Write(ev.sse); err != nil {
				return
			}
		more: // everything already queued, then one flush
			for {
				select {
				case ev, ok = <-c.ch:
					if !ok {
						break more
					}
					if _, err := w.Write(ev.sse); err != nil {
						return
					}
					n++
				default:
					break more
				}
			}
			fl.Flush()
			c.sent.Add(n)
			h.sent.Add(n)
			if !ok {
				return
			}
		case <-done:
			return
		}
	}
}

// webServe starts the server; returns the hub and the port.
func webServe(budget int, defaultDrop bool, sndbuf int) (*webHub, string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	h := &webHub{budget: budget, defaultDrop: defaultDrop,
		evLen: len("id: 1000\ndata: \n\n") + fanData}
	srv := &http.Server{Handler: h}
	if sndbuf > 0 {
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetWriteBuffer(sndbuf)
			}
			return ctx
		}
	}
	go srv.Serve(l)
	return h, strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func (h *webHub) waitClients(n int64, atLeast bool) {
	for {
		j := h.joined.Load()
		if (atLeast && j >= n) || (!atLeast && j <= n) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// monoNs is CLOCK_MONOTONIC (as rill's and net_load's clock).
func monoNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func raiseFdLimit(want uint64) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < want {
		lim.Cur = lim.Max
		if lim.Cur > want {
			lim.Cur = want
		}
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func fanData64(i int) []byte {
	d := make([]byte, fanData)
	for k := range d {
		d[k] = byte('a' + i%26)
	}
	return d
}

// webMain runs W16..W19 and prints the RESULT line.
func webMain(w string) {
	raiseFdLimit(sseIdle + 256)
	switch w {
	case "W16", "W19":
		nsse, nws, events, slow, budget, sndbuf := fanSSE, fanWS, fanEvents, 0, defaultBudget, 0
		if w == "W19" {
			nsse, nws, events, slow, budget, sndbuf = slowFastSSE, slowFastWS, slowEvents, slowSlow, slowBudget, slowSndbuf
		}
		h, port := webServe(budget, false, sndbuf)
		cmd := netLoad("fanout", port, strconv.Itoa(nsse), strconv.Itoa(nws),
			strconv.Itoa(events), strconv.Itoa(slow))
		if err := cmd.Start(); err != nil {
			os.Exit(1)
		}
		h.waitClients(int64(nsse+nws+slow), true)
		var rssHalf, rssEnd int64
		t0 := time.Now()
		for i := 1; i <= events; i++ {
			h.publish(i, fanData64(i))
			if i == events/2 {
				rssHalf = rssBytes()
			}
		}
		rssEnd = rssBytes()
		var slowDropped uint64
		slowLossless := 0
		for _, c := range h.snapshot() {
			if c.drop {
				slowDropped += c.dropped.Load()
				if c.dropped.Load() == 0 {
					slowLossless++
				}
			}
		}
		h.close()
		ok := cmd.Wait() == nil
		secs := time.Since(t0).Seconds()
		fast := uint64((nsse + nws) * events)
		if w == "W16" {
			ok = ok && h.sent.Load() == fast
			result(float64(fast)/secs/1e6, "Mdeliveries/s", ok, h.sent.Load())
			return
		}
		growth := (rssEnd - rssHalf) / 1024
		ok = ok && slowLossless == 0
		if !ok {
			fmt.Fprintf(os.Stderr, "check failed: %d slow clients lost nothing\n", slowLossless)
		}
		check := "ok"
		if !ok {
			check = "FAIL"
		}
		fmt.Printf("RESULT metric=%.3f unit=Mdeliveries/s check=%s sum=%d rss_growth_kb=%d slow_dropped=%d\n",
			float64(fast)/secs/1e6, check, fast, growth, slowDropped)
		if !ok {
			os.Exit(1)
		}
	case "W17":
		h, port := webServe(defaultBudget, false, 0)
		cmd := netLoad("latency", port, strconv.Itoa(latSSE), strconv.Itoa(latWS),
			strconv.Itoa(latEvents))
		out, err := cmd.StdoutPipe()
		if err != nil || cmd.Start() != nil {
			os.Exit(1)
		}
		h.waitClients(latSSE+latWS, true)
		period := time.Second / latRate
		next := time.Now()
		for i := 1; i <= latEvents; i++ {
			next = next.Add(period)
			time.Sleep(time.Until(next))
			d := []byte(fmt.Sprintf("%020d", monoNs()))
			for len(d) < fanData {
				d = append(d, 'x')
			}
			h.publish(i, d)
		}
		h.close()
		line, _ := bufio.NewReader(out).ReadString('\n')
		ok := cmd.Wait() == nil
		var n, p50, p99, max int64
		got, _ := fmt.Sscanf(strings.TrimSpace(line), "LATENCY n=%d p50_ns=%d p99_ns=%d max_ns=%d",
			&n, &p50, &p99, &max)
		want := int64((latSSE + latWS) * latEvents)
		ok = ok && got == 4 && n == want && h.sent.Load() == uint64(want)
		check := "ok"
		if !ok {
			check = "FAIL"
		}
		fmt.Printf("RESULT metric=%.3f unit=ms check=%s sum=%d p50_ms=%.3f max_ms=%.3f\n",
			float64(p99)/1e6, check, n, float64(p50)/1e6, float64(max)/1e6)
		if !ok {
			os.Exit(1)
		}
	case "W18":
		h, port := webServe(defaultBudget, true, 0)
		cmd := netLoad("sse-idle", port, strconv.Itoa(sseIdle))
		release, err := cmd.StdinPipe()
		if err != nil {
			os.Exit(1)
		}
		before := rssBytes()
		if err := cmd.Start(); err != nil {
			os.Exit(1)
		}
		h.waitClients(sseIdle, true)
		time.Sleep(20 * time.Millisecond) // the last one parks
		idle := rssBytes()
		release.Close()
		h.waitClients(0, false)
		ok := cmd.Wait() == nil && h.total.Load() == sseIdle
		result(float64(idle-before)/sseIdle, "B", ok, uint64(h.total.Load()))
	}
}
