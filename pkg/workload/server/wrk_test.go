package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// wrkScript posts one GraphQL body with a token; wrk's Lua sees the body
// and headers once and reuses them for every request.
const wrkScript = `
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")
`

var wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
var wrkRate = regexp.MustCompile(`(?m)^Requests/sec:\s+(\S+)`)
var wrkNon2xx = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses: (\d+)`)

// runWrk drives url with wrk (Debian package wrk) from a process of its
// own: 50 connections on 2 threads for d. It returns wrk's summary line.
func runWrk(b *testing.B, url, token, body string, d time.Duration) string {
	b.Helper()
	script := filepath.Join(b.TempDir(), "post.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("wrk", "-t2", "-c50", "-d"+d.String(), "--latency", "-s", script, url+"/graphql")
	cmd.Env = append(os.Environ(), "WRK_BODY="+body, "WRK_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	rate, lat, non2xx := wrkRate.FindSubmatch(out), wrkLatency.FindAllSubmatch(out, -1), wrkNon2xx.FindSubmatch(out)
	if rate == nil || len(lat) != 2 {
		b.Fatalf("unexpected wrk output:\n%s", out)
	}
	s := fmt.Sprintf("%8s req/s  p50 %8s  p99 %8s", rate[1], lat[0][2], lat[1][2])
	if non2xx != nil {
		s += fmt.Sprintf("  (%s non-2xx)", non2xx[1])
	}
	return s
}
