// SPDX-License-Identifier: MIT

// N2 (W12) echo throughput and N3 (W13) idle connections: Go's echo
// server, a goroutine per connection reading into a 1 KiB buffer and
// writing it back. The clients are the shared load generator
// (bench/clients/net_load.c, the same for every implementation), started
// as another process; bench/README.md describes both workloads.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	echoConns = 100    // N2: connections
	echoMsgs  = 2000   // N2: 64-byte messages per connection, one in flight
	echoMsg   = 64     // N2: message size
	idleConns = 10_000 // N3: idle connections
)

// echoServer counts what its connection goroutines echoed.
type echoServer struct {
	bytes, conns, bad atomic.Uint64
	notifyAt          uint64 // when bytes reaches it, onTotal runs (N3)
	onTotal           func()
}

// serve accepts n connections of l, each served by its own goroutine, and
// returns once all of them ended.
func (e *echoServer) serve(l net.Listener, n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go-peer: accept:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			e.echo(c)
		}(c)
	}
	l.Close()
	wg.Wait()
}

// echo writes back what c reads until the client's end of file.
func (e *echoServer) echo(c net.Conn) {
	defer c.Close()
	defer e.conns.Add(1)
	buf := make([]byte, 1024)
	for {
		k, err := c.Read(buf)
		if err != nil {
			if err != io.EOF {
				e.bad.Add(1)
			}
			return
		}
		if _, err := c.Write(buf[:k]); err != nil {
			e.bad.Add(1)
			return
		}
		if e.bytes.Add(uint64(k)) == e.notifyAt && e.onTotal != nil {
			e.onTotal()
		}
	}
}

// netLoad is the shared load generator: $RILL_BENCH_NET_LOAD, else
// net_load beside this program.
func netLoad(args ...string) *exec.Cmd {
	path := os.Getenv("RILL_BENCH_NET_LOAD")
	if path == "" {
		self, _ := os.Executable()
		path = filepath.Join(filepath.Dir(self), "net_load")
	}
	cmd := exec.Command(path, args...)
	cmd.Stderr = os.Stderr
	return cmd
}

// rssBytes is this process's resident set now (/proc/self/statm).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if err != nil || len(f) < 2 {
		os.Exit(1)
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// echoMain runs W12 or W13 and prints its RESULT line.
func echoMain(w string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	e := &echoServer{}
	if w == "W12" {
		cmd := netLoad("echo", port, strconv.Itoa(echoConns), strconv.Itoa(echoMsgs))
		if err := cmd.Start(); err != nil {
			os.Exit(1)
		}
		t0 := time.Now()
		e.serve(l, echoConns)
		secs := time.Since(t0).Seconds()
		bytes := e.bytes.Load()
		ok := cmd.Wait() == nil && bytes == echoConns*echoMsgs*echoMsg &&
			e.conns.Load() == echoConns && e.bad.Load() == 0
		result(float64(bytes)/echoMsg/secs/1e3, "kmsg/s", ok, bytes)
		return
	}
	// W13: each connection is an fd; raise the limit (Go 1.19 raises the
	// soft limit to the hard one at start; this says so explicitly).
	var lim syscall.Rlimit
	n := idleConns
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		if lim.Cur < idleConns+256 {
			lim.Cur = lim.Max
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
		if int(lim.Cur)-256 < n {
			n = int(lim.Cur) - 256
			fmt.Fprintf(os.Stderr, "go-peer: the fd limit %d allows %d connections, not %d\n",
				lim.Cur, n, idleConns)
		}
	}
	cmd := netLoad("idle", port, strconv.Itoa(n))
	release, err := cmd.StdinPipe()
	if err != nil {
		os.Exit(1)
	}
	before := rssBytes()
	var idle int64
	e.notifyAt, e.onTotal = uint64(n), func() {
		idle = rssBytes()
		release.Close() // the clients may go
	}
	if err := cmd.Start(); err != nil {
		os.Exit(1)
	}
	e.serve(l, n)
	bytes := e.bytes.Load()
	ok := cmd.Wait() == nil && idle > 0 && bytes == uint64(n) &&
		e.conns.Load() == uint64(n) && e.bad.Load() == 0
	result(float64(idle-before)/float64(n), "B", ok, bytes)
}

// result prints the RESULT line; exits 1 if the check failed.
func result(metric float64, unit string, ok bool, sum uint64) {
	check := "ok"
	if !ok {
		check = "FAIL"
	}
	fmt.Printf("RESULT metric=%.3f unit=%s check=%s sum=%d\n", metric, unit, check, sum)
	if !ok {
		os.Exit(1)
	}
}
