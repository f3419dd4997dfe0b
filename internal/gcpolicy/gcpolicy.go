// Package gcpolicy sets how the garbage collector paces a run of nekoctl,
// unless GOGC or GOMEMLIMIT says otherwise.
//
// Two things cost memory and time in every run and are cheap to avoid:
//   - Start-up. The linked libraries' initialisers allocate about 9 MB, nearly
//     all of it live until exit. At the default pace the collector ran four
//     cycles over it before main (about 15 ms of CPU in every command). The
//     collector is held off until main starts: this package is imported first
//     by main, and Go runs initialisers in import-path order among those whose
//     dependencies are done, so this one runs before the heavy ones.
//   - Collections. A short run allocates more than it keeps: a plan of three
//     regions allocates about 25 MB and keeps about 7; a plan of thirty
//     regions decodes every region at once, about 30 MB live at its busiest.
//     At the default pace (GOGC=100) the collector ran three times in the
//     former, a sixth of the CPU after the last answer came in, and in the
//     latter let the heap grow to 60 MB.
//     Start leaves the pace off and sets a soft memory limit instead: the
//     collector runs only when the heap reaches Base (a small plan never
//     collects), and when the live set needs more, the limit keeps Headroom
//     of it free above the live set, so a larger stack never makes the
//     collector run back to back.
package gcpolicy

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

const (
	// Base is the Go memory a run aims to stay within, and below which it
	// does not collect.
	Base = 56 << 20
	// Headroom is the share of the live heap kept free above it once the
	// live heap needs more than Base.
	Headroom = 0.5
)

// released is set once a long-running command took the runtime's defaults.
var released atomic.Bool

// chosen reports whether the environment sets the collector's pace.
var chosen = os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != ""

func init() {
	if !chosen {
		debug.SetGCPercent(-1)
	}
}

// Start lets the collector run at the memory limit the package comment
// describes, unless GOGC or GOMEMLIMIT chose another pace.
func Start() {
	if chosen {
		return
	}
	debug.SetMemoryLimit(Base)
	watch()
}

// Release returns to the runtime's defaults (GOGC=100, no limit) for a
// long-running server, whose live heap and latency matter more than a
// short run's peak.
func Release() {
	if chosen {
		return
	}
	released.Store(true)
	debug.SetMemoryLimit(math.MaxInt64)
	debug.SetGCPercent(100)
}

// Limit is the memory limit for a live heap of live bytes.
func Limit(live uint64) int64 {
	return max(Base, int64(float64(live)*(1+Headroom)))
}

// watch moves the limit after every collection: a cleanup attached to a
// fresh object runs once the collector has found it unreachable, that is
// after each cycle, and attaches the next.
func watch() {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.AddCleanup(new([64]byte), func(struct{}) {
			if released.Load() {
				return
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(Limit(sample[0].Value.Uint64()))
			}
			arm()
		}, struct{}{})
	}
	arm()
}
