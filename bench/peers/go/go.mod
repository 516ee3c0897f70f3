module rill/bench/peers/go

go 1.19
