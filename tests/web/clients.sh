#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real clients against tests/web/serve.c: curl for HTTP and SSE (curl -N),
# Debian's python3-websockets for WebSocket, raw sockets for bad input.
# Usage: clients.sh path/to/web_test_server. Ends with "N passed, N failed".
set -uo pipefail
server=$1
dir=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { # name, command...
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then ok "$name"; else bad "$name"; tail -5 "$work/out"; fi
}
# Wait (bounded) until a command succeeds.
until_ok() { local i; for i in $(seq 1 200); do "$@" && return 0; sleep 0.05; done; return 1; }

"$server" >"$work/port" 2>"$work/server.err" &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$work"' EXIT
until_ok grep -q port "$work/port" || { echo "FAIL: server did not start"; cat "$work/server.err"; exit 1; }
port=$(awk '{print $2}' "$work/port")
base=http://127.0.0.1:$port

# ---- HTTP ----
check "GET /hello" bash -c "[ \"\$(curl -sS $base/hello)\" = hello ]"
check "HEAD /hello: Content-Length 6, no body" bash -c \
  "curl -sSI $base/hello | grep -qi '^content-length: 6' && [ -z \"\$(curl -sS -X HEAD --max-time 2 $base/hello)\" ]"
check "404 unknown path" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $base/nope)\" = 404 ]"
check "405 with Allow" bash -c \
  "curl -si -X DELETE $base/hello | grep -q '^HTTP/1.1 405' && curl -si -X DELETE $base/hello | grep -qi '^allow: GET, HEAD'"
check "501 unknown method" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -X BREW $base/hello)\" = 501 ]"
check "POST /echo (body)" bash -c "[ \"\$(curl -sS --data-binary 'some body' $base/echo)\" = 'some body' ]"
check "POST /echo chunked request body" bash -c \
  "[ \"\$(printf 'abc%.0s' \$(seq 1000) | curl -sS -H 'Transfer-Encoding: chunked' --data-binary @- $base/echo | wc -c)\" = 3000 ]"
check "keep-alive: two requests, one connection" bash -c \
  "curl -sv $base/hello $base/hello 2>&1 | grep -q 'Re-using existing connection'"
check "chunked response" bash -c "[ \"\$(curl -sS $base/chunked)\" = 'one two three' ] && curl -si $base/chunked | grep -qi 'transfer-encoding: chunked'"
check "HTTP/1.0: no chunking, Connection: close" bash -c \
  "curl -si --http1.0 $base/chunked | grep -qi '^connection: close' && ! curl -si --http1.0 $base/chunked | grep -qi transfer-encoding"
check "pipelined requests, bad input" $py - "$port" <<'PY'
import socket, sys
port = int(sys.argv[1])
def talk(data, until_close=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    out = b""
    while True:
        c = s.recv(65536)
        if not c: break
        out += c
    s.close()
    return out
# three pipelined requests in one write; the last closes
r = talk(b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\n"
         b"Content-Length: 3\r\n\r\nxyzGET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
assert r.count(b"HTTP/1.1 200 OK") == 3 and b"\r\n\r\nxyz" in r, r
assert talk(b"GET / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400"), "no Host"
assert talk(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n").startswith(b"HTTP/1.1 400")
assert talk(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n").startswith(b"HTTP/1.1 414")
assert talk(b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"b" * 17000).startswith(b"HTTP/1.1 431")
assert talk(b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 70 + b"\r\n").startswith(b"HTTP/1.1 431")
assert talk(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n").startswith(b"HTTP/1.1 413")
assert talk(b"GET / HTTP/2.0\r\nHost: a\r\n\r\n").startswith(b"HTTP/1.1 505")
assert talk(b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n").startswith(b"HTTP/1.1 501")
r = talk(b"GET /hello HTTP/1.0\r\n\r\n")
assert r.startswith(b"HTTP/1.1 200") and b"Connection: close" in r, r
print("pipelining and 400/414/431/413/505/501 ok")
PY

# ---- SSE ----
curl -sS -X POST --data 20 "$base/publish" >/dev/null
check "SSE resume after Last-Event-ID 5 (events 6..20, keep-alive comments)" bash -c \
  "curl -sN -H 'Last-Event-ID: 5' --max-time 2.5 $base/events >$work/sse1; \
   [ \"\$(grep '^id: ' $work/sse1 | tr -d '\n')\" = \"\$(seq 6 20 | sed 's/^/id: /' | tr -d '\n')\" ] && \
   grep -q '^data: event 6\$' $work/sse1 && grep -q '^data: second line\$' $work/sse1 && \
   grep -q '^:\$' $work/sse1 && ! grep -q rill-gap $work/sse1"
check "SSE resume from an id older than the ring: gap event, then 5..20" bash -c \
  "curl -sN -H 'Last-Event-ID: 2' --max-time 1.5 $base/events >$work/sse2; \
   head -2 $work/sse2 | grep -q '^event: rill-gap' && \
   [ \"\$(grep '^id: ' $work/sse2 | tr -d '\n')\" = \"\$(seq 5 20 | sed 's/^/id: /' | tr -d '\n')\" ]"
# Live: a client connected before the events are published gets them.
curl -sN --max-time 20 "$base/events" >"$work/sse3" &
cpid=$!
live() { curl -sS -X POST --data 1 "$base/publish" >/dev/null; grep -q '^id: ' "$work/sse3"; }
if until_ok live; then ok "SSE live events to a connected curl -N"; else bad "SSE live events"; fi
kill $cpid 2>/dev/null; wait $cpid 2>/dev/null
check "SSE from a per-client stream ends with the stream" bash -c \
  "[ \"\$(curl -sN --max-time 5 $base/stream | grep -c '^data: item')\" = 3 ]"

# ---- WebSocket ----
check "WebSocket (python3-websockets)" $py "$dir/ws_client.py" "$port" echo

# ---- graceful shutdown with an SSE and a WebSocket client open ----
curl -sN --max-time 30 "$base/events" >"$work/sse4" &
sse_pid=$!
$py "$dir/ws_client.py" "$port" held >"$work/held" 2>&1 &
ws_pid=$!
until_ok grep -q connected "$work/held" || bad "ws client did not connect"
check "POST /shutdown" bash -c "[ \"\$(curl -sS -X POST $base/shutdown)\" = bye ]"
if wait $sse_pid; then ok "SSE response ended by shutdown"; else bad "SSE curl did not end cleanly"; fi
if wait $ws_pid && grep -q 'ok: ws closed by shutdown' "$work/held"; then ok "WebSocket closed with 1001 by shutdown"; else bad "ws shutdown"; cat "$work/held"; fi
if wait $spid; then ok "server exited 0 after draining"; else bad "server exit"; cat "$work/server.err"; fi
trap 'rm -rf "$work"' EXIT
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
