// SPDX-License-Identifier: MIT

// Command go-redis-peer is the Go peer of rill's Redis workloads:
// `go-redis-peer <W20|W21|W22>` (R1 sink, R2 group + XACK, R3 latency; see
// bench/redis/bench_redis.h for what each measures). It uses Debian's
// redigo (golang-github-gomodule-redigo-dev), the usual Go client for
// pipelining: Send + Flush + Receive. Like the C programs it starts its own
// redis-server on a Unix socket in a fresh directory and stops it by its
// pid, then prints one line
// `RESULT metric=<x> unit=<u> check=<ok|FAIL> sum=<n> [p50=<x>] cpu_ns=<n>`;
// the exit status is 0 only when the check passed.
//
// Built in GOPATH mode (GO111MODULE=off) with /usr/share/gocode on GOPATH,
// so nothing is fetched.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomodule/redigo/redis"
)

const (
	entries   = 200000 // R1, R2
	batch     = 256
	r3Rate    = 10000 // entries per second
	r3Entries = 20000
	payload   = 64
)

var sock string

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

// startServer starts redis-server on a Unix socket in a fresh directory
// and waits until it answers PING.
func startServer() (*exec.Cmd, string) {
	dir, err := os.MkdirTemp("", "rill-goredis-")
	if err != nil {
		die("mkdtemp", err)
	}
	sock = filepath.Join(dir, "redis.sock")
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", sock,
		"--save", "", "--appendonly", "yes", "--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		die("redis-server", err)
	}
	for i := 0; i < 1000; i++ {
		if c, err := redis.Dial("unix", sock); err == nil {
			_, err = c.Do("PING")
			c.Close()
			if err == nil {
				return cmd, dir
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	die("redis-server", fmt.Errorf("did not start"))
	return nil, ""
}

func dial() redis.Conn {
	c, err := redis.Dial("unix", sock)
	if err != nil {
		die("dial", err)
	}
	return c
}

// cpuNs is this process's CPU time so far (user + system).
func cpuNs() int64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return u.Utime.Nano() + u.Stime.Nano()
}

// addPipelined sends n XADDs of value, batch at a time.
func addPipelined(c redis.Conn, key string, n int, value string) {
	for done := 0; done < n; {
		k := n - done
		if k > batch {
			k = batch
		}
		for i := 0; i < k; i++ {
			if err := c.Send("XADD", key, "*", "data", value); err != nil {
				die("send", err)
			}
		}
		if err := c.Flush(); err != nil {
			die("flush", err)
		}
		for i := 0; i < k; i++ {
			if _, err := redis.String(c.Receive()); err != nil {
				die("XADD", err)
			}
		}
		done += k
	}
}

func report(metric float64, unit string, ok bool, sum int, extra string) int {
	check := "ok"
	if !ok {
		check = "FAIL"
	}
	fmt.Printf("RESULT metric=%.1f unit=%s check=%s sum=%d%s\n", metric, unit,
		check, sum, extra)
	if ok {
		return 0
	}
	return 1
}

func r1() int {
	c := dial()
	defer c.Close()
	value := strings.Repeat("x", payload)
	cpu0, t0 := cpuNs(), time.Now()
	addPipelined(c, "r1", entries, value)
	secs := time.Since(t0).Seconds()
	cpu := cpuNs() - cpu0
	n, err := redis.Int(c.Do("XLEN", "r1"))
	return report(entries/secs/1e3, "kentries/s", err == nil && n == entries,
		entries, fmt.Sprintf(" cpu_ns=%d", cpu/entries))
}

// readAndAck does one XREADGROUP (block < 0: no BLOCK) and one XACK of the
// entries it got, calling each on every entry's fields; returns how many.
func readAndAck(c redis.Conn, key string, block int, each func([]string)) int {
	args := []interface{}{"GROUP", "g", "c1", "COUNT", batch}
	if block >= 0 {
		args = append(args, "BLOCK", block)
	}
	args = append(args, "STREAMS", key, ">")
	reply, err := c.Do("XREADGROUP", args...)
	if err != nil {
		die("XREADGROUP", err)
	}
	if reply == nil {
		return 0
	}
	streams, err := redis.Values(reply, nil)
	if err != nil || len(streams) != 1 {
		die("XREADGROUP reply", err)
	}
	kv, _ := redis.Values(streams[0], nil)
	es, _ := redis.Values(kv[1], nil)
	ack := make([]interface{}, 0, len(es)+2)
	ack = append(ack, key, "g")
	for _, e := range es {
		idf, _ := redis.Values(e, nil)
		id, _ := redis.String(idf[0], nil)
		fields, _ := redis.Strings(idf[1], nil)
		if each != nil {
			each(fields)
		}
		ack = append(ack, id)
	}
	if len(es) > 0 {
		n, err := redis.Int(c.Do("XACK", ack...))
		if err != nil || n != len(es) {
			die("XACK", err)
		}
	}
	return len(es)
}

func r2() int {
	c := dial()
	defer c.Close()
	addPipelined(c, "r2", entries, strings.Repeat("x", payload))
	if _, err := c.Do("XGROUP", "CREATE", "r2", "g", "0"); err != nil {
		die("XGROUP", err)
	}
	cpu0, t0 := cpuNs(), time.Now()
	got, ok := 0, true
	for got < entries {
		got += readAndAck(c, "r2", -1, func(f []string) {
			ok = ok && len(f) == 2 && len(f[1]) == payload
		})
	}
	secs := time.Since(t0).Seconds()
	cpu := cpuNs() - cpu0
	p, err := redis.Values(c.Do("XPENDING", "r2", "g"))
	pending := int64(-1)
	if err == nil && len(p) > 0 {
		pending, _ = redis.Int64(p[0], nil)
	}
	return report(float64(got)/secs/1e3, "kentries/s", ok && pending == 0,
		got, fmt.Sprintf(" cpu_ns=%d", cpu/entries))
}

func r3() int {
	c := dial()
	defer c.Close()
	if _, err := c.Do("XGROUP", "CREATE", "r3", "g", "$", "MKSTREAM"); err != nil {
		die("XGROUP", err)
	}
	base := time.Now()
	cpu0 := cpuNs()
	done := make(chan struct{})
	go func() {
		p := dial()
		defer p.Close()
		step := time.Second / r3Rate
		for i := 0; i < r3Entries; i++ {
			time.Sleep(time.Until(base.Add(time.Duration(i) * step)))
			stamp := fmt.Sprintf("%020d", time.Since(base).Nanoseconds())
			value := stamp + strings.Repeat(".", payload-len(stamp))
			if _, err := p.Do("XADD", "r3", "*", "data", value); err != nil {
				die("XADD", err)
			}
		}
		close(done)
	}()
	lat := make([]int64, 0, r3Entries)
	ok := true
	for len(lat) < r3Entries && ok {
		readAndAck(c, "r3", 1000, func(f []string) {
			now := time.Since(base).Nanoseconds()
			if len(f) != 2 || len(f[1]) != payload {
				ok = false
				return
			}
			sent, err := strconv.ParseInt(f[1][:20], 10, 64)
			ok = ok && err == nil
			lat = append(lat, now-sent)
		})
	}
	<-done
	cpu := cpuNs() - cpu0
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(f*float64(len(lat)-1)+0.5)]) / 1e3
	}
	return report(q(0.99), "us", ok && len(lat) == r3Entries, len(lat),
		fmt.Sprintf(" p50=%.1f cpu_ns=%d", q(0.5), cpu/r3Entries))
}

func main() {
	w := ""
	if len(os.Args) > 1 {
		w = os.Args[1]
	}
	run := map[string]func() int{"W20": r1, "W21": r2, "W22": r3}[w]
	if run == nil {
		fmt.Fprintln(os.Stderr, "usage: go-redis-peer W20|W21|W22")
		os.Exit(2)
	}
	cmd, dir := startServer()
	rc := run()
	cmd.Process.Kill()
	cmd.Wait()
	os.RemoveAll(dir)
	os.Exit(rc)
}
