package bench

import (
	"bufio"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// trace writes what the proxies forward, one line per connection opened
// and per chunk read, with the time since the run began (-trace). Read with
// the injected RTT in mind, it shows which round trips a run waits on.
type trace struct {
	mu    sync.Mutex
	w     *bufio.Writer
	f     *os.File
	rtt   time.Duration
	start time.Time
	run   string
}

func openTrace(b *testing.B, rtt time.Duration) *trace {
	if *traceFile == "" {
		return nil
	}
	f, err := os.OpenFile(*traceFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	return &trace{f: f, w: bufio.NewWriter(f), rtt: rtt}
}

// phase starts a run: times count from here.
func (t *trace) phase(name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.start, t.run = time.Now(), name
	fmt.Fprintf(t.w, "== %s, RTT %s\n", name, t.rtt)
}

// endpoint is the proxy's hook for one named endpoint (nil: no trace).
func (t *trace) endpoint(name string) func(conn int, what string) {
	if t == nil {
		return nil
	}
	return func(conn int, what string) {
		t.mu.Lock()
		defer t.mu.Unlock()
		at := time.Since(t.start)
		rtts := ""
		if t.rtt > 0 {
			rtts = fmt.Sprintf(" (%4.1f RTT)", float64(at)/float64(t.rtt))
		}
		fmt.Fprintf(t.w, "%8.3f s%s  %s#%d %s\n", at.Seconds(), rtts, name, conn, what)
	}
}

func (t *trace) close() {
	if t == nil {
		return
	}
	_ = t.w.Flush()
	_ = t.f.Close()
}
