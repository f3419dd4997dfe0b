// Package gcpolicy sets how the garbage collector paces a run of nekoctl,
// unless GOGC or GOMEMLIMIT says otherwise.
//
// Two things cost memory and time in every run and are cheap to avoid:
//   - Start-up. The linked libraries' initialisers allocate about 9 MB, nearly
//     all of it live until exit. At the default pace the collector would run
//     several cycles over it, touching the type information of every object
//     (10 MB more of the executable paged in) and slowing every command. The
//     collector is held off until main starts: this package is imported first
//     by main, and Go runs initialisers in import-path order among those whose
//     dependencies are done, so this one runs before the heavy ones.
//   - Peaks. A plan of many regions decodes every region's objects at once:
//     little of it stays live (a thirty-region plan keeps about 14 MB), but at
//     the default pace the heap grows to twice the live set at its busiest,
//     60 MB. Start sets a soft memory limit instead: the heap stays within
//     Base while the live set allows, and above that keeps Headroom of the
//     live set free, so a larger stack never makes the collector run without
//     pause (which a fixed limit would).
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
	// Base is the Go memory a run aims to stay within.
	Base = 56 << 20
	// Headroom is the share of the live heap kept free above Base.
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

// Start lets the collector run, at the pace the package comment describes,
// unless GOGC or GOMEMLIMIT chose another.
func Start() {
	if chosen {
		return
	}
	debug.SetMemoryLimit(Base)
	debug.SetGCPercent(100)
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
