// SPDX-License-Identifier: MIT

// Command go-peer is the Go peer of rill's benchmarks: `go-peer <W1..W19>`.
// Goroutines and channels from the standard library only: `range` over a
// channel is the stream, `select` merges for W10. It runs the workload once
// with GOMAXPROCS=2 and prints one line
// `RESULT metric=<number> unit=<unit> check=<ok|FAIL> sum=<sum>`; the exit
// status is 0 only when the check passed.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	n          = 10_000_000 // items in W1, W2, W3, W5, W6, W10
	roundTrips = 1_000_000  // W4
	bcastItems = 1_000_000  // W7, to each of 4 receivers
	tasks      = 100_000    // W8
	sleepers   = 10_000     // W9
	yieldTasks = 10_000     // W15: goroutines
	yieldsEach = 1_000      // W15: Gosched calls of each
)

// run is what a consumer saw: the checked sum and count of its items.
type run struct{ sum, count uint64 }

func (r *run) add(v uint64) { r.sum += v; r.count++ }

func tri(k uint64) uint64 { return k * (k - 1) / 2 }

// produce sends lo..hi one item per send, then closes ch.
func produce(ch chan<- uint64, lo, hi uint64) {
	for i := lo; i < hi; i++ {
		ch <- i
	}
	close(ch)
}

// drain ranges over ch (the stream) until it is closed.
func drain(ch <-chan uint64) (r run) {
	for v := range ch {
		r.add(v)
	}
	return
}

// w1: bounded(1024), one producer, the consumer ranges over the channel.
func w1() run {
	ch := make(chan uint64, 1024)
	go produce(ch, 0, n)
	return drain(ch)
}

// w2: 4 producers x n/4 into one bounded(1024); closed when all are done.
func w2() run {
	ch := make(chan uint64, 1024)
	var wg sync.WaitGroup
	part := uint64(n / 4)
	for p := uint64(0); p < 4; p++ {
		wg.Add(1)
		go func(lo uint64) {
			defer wg.Done()
			for i := lo; i < lo+part; i++ {
				ch <- i
			}
		}(p * part)
	}
	go func() { wg.Wait(); close(ch) }()
	return drain(ch)
}

// w3: Go has no unbounded channel; the nearest is a buffered channel that can
// hold every item, so the producer never waits (its whole buffer is
// allocated up front).
func w3() run {
	ch := make(chan uint64, n)
	go produce(ch, 0, n)
	return drain(ch)
}

// w4: two goroutines, two channels of capacity 1, roundTrips round trips.
func w4() run {
	ping, pong := make(chan uint64, 1), make(chan uint64, 1)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	var r run
	for i := uint64(0); i < roundTrips; i++ {
		ping <- i
		r.add(<-pong)
	}
	close(ping)
	return r
}

// w5: w1, but the consumer takes chunks of 64 and sums each chunk.
func w5() run {
	ch := make(chan uint64, 1024)
	go produce(ch, 0, n)
	var r run
	var chunk [64]uint64
	k := 0
	flush := func() {
		var s uint64
		for _, v := range chunk[:k] {
			s += v
		}
		r.sum += s
		r.count += uint64(k)
		k = 0
	}
	for v := range ch {
		chunk[k] = v
		k++
		if k == len(chunk) {
			flush()
		}
	}
	flush()
	return r
}

// w6: the producer is a goroutine locked to its own OS thread doing
// blocking sends; the consumer ranges over the channel.
func w6() run {
	ch := make(chan uint64, 1024)
	go func() {
		runtime.LockOSThread()
		produce(ch, 0, n)
	}()
	return drain(ch)
}

// w7: Go has no broadcast channel; the idiom is one channel (capacity 1024)
// per receiver, the sender sending each item to each in turn.
func w7() run {
	var chans [4]chan uint64
	results := make(chan run, 4)
	for i := range chans {
		chans[i] = make(chan uint64, 1024)
		go func(ch <-chan uint64) { results <- drain(ch) }(chans[i])
	}
	for i := uint64(0); i < bcastItems; i++ {
		for _, ch := range chans {
			ch <- i
		}
	}
	for _, ch := range chans {
		close(ch)
	}
	var total run
	for range chans {
		r := <-results
		total.sum += r.sum
		total.count += r.count
	}
	return total
}

// w8: tasks goroutines, each waiting on its own one-shot channel; then send
// to all and join all (each stores what it received).
func w8() run {
	chans := make([]chan uint64, tasks)
	got := make([]uint64, tasks)
	var wg sync.WaitGroup
	wg.Add(tasks)
	for i := range chans {
		chans[i] = make(chan uint64, 1)
		go func(i int) {
			got[i] = <-chans[i]
			wg.Done()
		}(i)
	}
	for i, ch := range chans {
		ch <- uint64(i)
	}
	wg.Wait()
	var r run
	for _, v := range got {
		r.add(v)
	}
	return r
}

// w15: yieldTasks goroutines each call runtime.Gosched yieldsEach times,
// counting their own yields; the total is checked.
func w15() run {
	parts := make([]run, yieldTasks)
	var wg sync.WaitGroup
	wg.Add(yieldTasks)
	for i := range parts {
		go func(p *run) {
			for k := uint64(0); k < yieldsEach; k++ {
				runtime.Gosched()
				p.add(k)
			}
			wg.Done()
		}(&parts[i])
	}
	wg.Wait()
	var r run
	for _, p := range parts {
		r.sum += p.sum
		r.count += p.count
	}
	return r
}

// w9: sleepers items from a channel; 64 goroutines range over it (Go's
// for_each_concurrent(64)), each item sleeping 1 ms.
func w9() run {
	ch := make(chan uint64, 1024)
	go produce(ch, 0, sleepers)
	var sum, count uint64
	var wg sync.WaitGroup
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range ch {
				time.Sleep(time.Millisecond)
				atomic.AddUint64(&sum, v)
				atomic.AddUint64(&count, 1)
			}
		}()
	}
	wg.Wait()
	return run{sum, count}
}

// w10: 8 bounded(256) channels, 8 producers; the consumer merges them with
// one select over all 8 (a closed channel is set to nil and drops out).
func w10() run {
	part := uint64(n / 8)
	var c [8]chan uint64
	for p := range c {
		c[p] = make(chan uint64, 256)
		go produce(c[p], uint64(p)*part, uint64(p+1)*part)
	}
	var r run
	open := len(c)
	for open > 0 {
		var v uint64
		var ok bool
		var which int
		select {
		case v, ok = <-c[0]:
			which = 0
		case v, ok = <-c[1]:
			which = 1
		case v, ok = <-c[2]:
			which = 2
		case v, ok = <-c[3]:
			which = 3
		case v, ok = <-c[4]:
			which = 4
		case v, ok = <-c[5]:
			which = 5
		case v, ok = <-c[6]:
			which = 6
		case v, ok = <-c[7]:
			which = 7
		}
		if !ok {
			c[which] = nil
			open--
			continue
		}
		r.add(v)
	}
	return r
}

func main() {
	runtime.GOMAXPROCS(2)
	if netMain(os.Args) {
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-peer <W1..W19>")
		os.Exit(2)
	}
	w, err := strconv.Atoi(strings.TrimLeft(os.Args[1], "Ww"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage: go-peer <W1..W19>")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(2)
	type spec struct {
		f     func() run
		count uint64
		unit  string
	}
	specs := map[int]spec{
		1: {w1, n, "Mitems/s"}, 2: {w2, n, "Mitems/s"}, 3: {w3, n, "Mitems/s"},
		4: {w4, roundTrips, "ns"}, 5: {w5, n, "Mitems/s"}, 6: {w6, n, "Mitems/s"},
		7: {w7, 4 * bcastItems, "Mdeliveries/s"}, 8: {w8, tasks, "ms"},
		9: {w9, sleepers, "ms"}, 10: {w10, n, "Mitems/s"},
		15: {w15, yieldTasks * yieldsEach, "ns"},
	}
	s, known := specs[w]
	if !known {
		fmt.Fprintln(os.Stderr, "go-peer: no workload", os.Args[1])
		os.Exit(2)
	}
	t0 := time.Now()
	r := s.f()
	secs := time.Since(t0).Seconds()

	wantSum := tri(s.count)
	if w == 7 {
		wantSum = 4 * tri(bcastItems)
	}
	if w == 15 {
		wantSum = yieldTasks * tri(yieldsEach)
	}
	ok := r.count == s.count && r.sum == wantSum
	var metric float64
	switch s.unit {
	case "ns":
		metric = secs * 1e9 / float64(s.count)
	case "ms":
		metric = secs * 1e3
	default:
		metric = float64(r.count) / secs / 1e6
	}
	check := "ok"
	if !ok {
		check = "FAIL"
		fmt.Fprintf(os.Stderr, "check failed: count %d (want %d), sum %d (want %d)\n",
			r.count, s.count, r.sum, wantSum)
	}
	fmt.Printf("RESULT metric=%.3f unit=%s check=%s sum=%d\n", metric, s.unit, check, r.sum)
	if !ok {
		os.Exit(1)
	}
}
