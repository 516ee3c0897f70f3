// SPDX-License-Identifier: MIT

// The networking workloads (bench/README.md): N1 (W11) 1-byte TCP
// ping-pong, N4 (W14) lines; N2 (W12) and N3 (W13) are in echo.go. The client or writer runs as another process
// (this program run again as `go-peer client <port>` / `go-peer writer
// <port>`), as rill's does.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"
)

const (
	tcpRoundTrips = 100_000
	lineLen       = 80
	linesBytes    = (1 << 30) / lineLen * lineLen
)

// netMain runs a networking workload or a helper process if args name one;
// it reports whether it did.
func netMain(args []string) bool {
	if len(args) == 2 && args[1] >= "W16" && args[1] <= "W19" {
		webMain(args[1]) // web.go
		return true
	}
	if len(args) == 2 && (args[1] == "W12" || args[1] == "W13") {
		echoMain(args[1]) // echo.go
		return true
	}
	if len(args) == 3 && (args[1] == "client" || args[1] == "writer") {
		port, _ := strconv.Atoi(args[2])
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			os.Exit(1)
		}
		if args[1] == "client" {
			one, back := make([]byte, 1), make([]byte, 1)
			for i := 0; i < tcpRoundTrips; i++ {
				one[0] = byte(i)
				if _, err := conn.Write(one); err != nil {
					os.Exit(2)
				}
				if _, err := conn.Read(back); err != nil || back[0] != one[0] {
					os.Exit(2)
				}
			}
		} else {
			block := make([]byte, lineLen*819)
			for i := range block {
				if i%lineLen == lineLen-1 {
					block[i] = '\n'
				} else {
					block[i] = byte('a' + i%26)
				}
			}
			for sent := 0; sent < linesBytes; {
				n := len(block)
				if linesBytes-sent < n {
					n = linesBytes - sent
				}
				w, err := conn.Write(block[:n])
				if err != nil {
					os.Exit(2)
				}
				sent += w
			}
		}
		conn.Close()
		os.Exit(0)
	}
	if len(args) != 2 || (args[1] != "W11" && args[1] != "W14") {
		return false
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	helper := "client"
	if args[1] == "W14" {
		helper = "writer"
	}
	cmd := exec.Command("/proc/self/exe", helper, port)
	if err := cmd.Start(); err != nil {
		os.Exit(1)
	}
	t0 := time.Now()
	conn, err := l.Accept()
	if err != nil {
		os.Exit(1)
	}
	var count, sum, want uint64
	if args[1] == "W11" {
		b := make([]byte, 1)
		for {
			if _, err := conn.Read(b); err != nil {
				break
			}
			if _, err := conn.Write(b); err != nil {
				break
			}
			count++
			sum += uint64(b[0])
		}
		for i := 0; i < tcpRoundTrips; i++ {
			want += uint64(byte(i))
		}
	} else {
		sc := bufio.NewScanner(conn)
		sc.Buffer(make([]byte, 64*1024), 4096)
		for sc.Scan() {
			count++
			sum += uint64(len(sc.Bytes()) + 1)
		}
		want = linesBytes
	}
	secs := time.Since(t0).Seconds()
	ok := cmd.Wait() == nil && sum == want
	check := "ok"
	if !ok {
		check = "FAIL"
	}
	if args[1] == "W11" {
		ok = ok && count == tcpRoundTrips
		fmt.Printf("RESULT metric=%.3f unit=ns check=%s sum=%d\n", secs*1e9/float64(count), check, sum)
	} else {
		ok = ok && count == linesBytes/lineLen
		fmt.Printf("RESULT metric=%.3f unit=MB/s check=%s sum=%d\n", float64(sum)/secs/1e6, check, sum)
	}
	if !ok {
		os.Exit(1)
	}
	return true
}
