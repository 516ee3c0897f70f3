module rill/bench/peers/go

go 1.19

// Debian's golang-github-gorilla-websocket-dev, offline (scripts/deps.sh
// bench installs it; scripts/bench.sh builds with GOPROXY=off).
require github.com/gorilla/websocket v1.5.0

replace github.com/gorilla/websocket => /usr/share/gocode/src/github.com/gorilla/websocket
