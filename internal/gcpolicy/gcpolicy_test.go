package gcpolicy

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestLimitKeepsBaseUntilTheLiveHeapNeedsMore(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int64
	}{
		{0, Base},
		{14 << 20, Base},
		{Base * 2 / 3, Base},
		{Base, Base * 3 / 2},
		{200 << 20, 300 << 20},
	} {
		if got := Limit(tc.live); got != tc.want {
			t.Errorf("Limit(%d MiB) = %d MiB, want %d MiB", tc.live>>20, got>>20, tc.want>>20)
		}
	}
}

// TestTheLimitFollowsALargeLiveHeap: with more live than Base, the limit
// moves up after a collection, so the collector does not run back to back.
func TestTheLimitFollowsALargeLiveHeap(t *testing.T) {
	if chosen {
		t.Skip("GOGC or GOMEMLIMIT is set")
	}
	defer Release()
	Start()
	if got := debug.SetMemoryLimit(-1); got != Base {
		t.Fatalf("limit after Start = %d MiB, want %d MiB", got>>20, Base>>20)
	}
	if pct := debug.SetGCPercent(-1); pct != -1 {
		t.Fatalf("GOGC after Start = %d, want off (the limit paces the collector)", pct)
	}
	live := make([][]byte, 0, 96)
	for range 96 { // 96 MiB, live until the end
		live = append(live, make([]byte, 1<<20))
	}
	deadline := time.Now().Add(10 * time.Second)
	for debug.SetMemoryLimit(-1) < 96<<20*3/2 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the cleanup runs on its own goroutine
	}
	if got := debug.SetMemoryLimit(-1); got < 96<<20*3/2 {
		t.Errorf("limit with 96 MiB live = %d MiB, want at least %d MiB", got>>20, 96*3/2)
	}
	runtime.KeepAlive(live)
	Release()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("limit after Release = %d, want none", got)
	}
	if pct := debug.SetGCPercent(100); pct != 100 {
		t.Errorf("GOGC after Release = %d, want 100", pct)
	}
}
