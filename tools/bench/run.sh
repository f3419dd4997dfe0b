#!/usr/bin/env bash
# Measures nekoctl at a distance: both emulators and one real kube-apiserver
# per region, each behind a TCP proxy that adds a round-trip time, for the
# guide's stack at several region counts. Prints the release binary's size,
# what dominates it, and one table (see README "Performance").
#
#   tools/bench/run.sh                          # 3 and 30 regions, RTT 0 and 100 ms
#   tools/bench/run.sh -regions 3 -rtt 0,50ms   # any other mix
#
# 30 regions start 30 API servers (about 280 MB each): allow 9 GB of memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Built as the release builds it (.goreleaser.yaml): without cgo the linker
# leaves out plugin support, which would export every symbol and keep every
# exported method (about 50 MB more, all of it paged in at start-up).
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out/nekoctl" ./cmd/nekoctl
CGO_ENABLED=0 go build -trimpath -o "$out/nekoctl-symbols" ./cmd/nekoctl
printf 'release binary (-ldflags=-s -w): %.1f MB\n' "$(echo "$(stat -c %s "$out/nekoctl") / 1048576" | bc -l)"
echo "largest modules by code and read-only data (go tool nm -size of the unstripped build, MB):"
go tool nm -size "$out/nekoctl-symbols" | awk '
	$3 !~ /^[TtRr]$/ { next }
	{ name = $4; sub(/^(type:|go:itab\.|go:)/, "", name); gsub(/[*(]/, "", name)
	  n = split(name, p, "/")
	  if (p[1] ~ /^(github\.com|gopkg\.in|sigs\.k8s\.io|go\.opentelemetry\.io|go\.mongodb\.org)$/ && n >= 3) mod = p[1] "/" p[2] "/" p[3]
	  else if (p[1] ~ /\./ && n >= 2) mod = p[1] "/" p[2]
	  else if (n >= 2) mod = "std " p[1] "/" p[2]
	  else mod = "std " p[1]
	  sub(/\.[^\/]*$/, "", mod)
	  size[mod] += $2 }
	END { for (m in size) printf "%8.1f  %s\n", size[m] / 1048576, m }' | sort -rn | awk 'NR <= 15' # reads all: no SIGPIPE under pipefail
go test -run '^$' -bench Stack -benchtime 1x -timeout 120m ./tools/bench/ -args -nekoctl "$out/nekoctl" "$@" |
	grep -v '^\(goos\|goarch\|pkg\|cpu\|BenchmarkStack\|PASS\|ok \)'
