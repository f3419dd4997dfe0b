package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
)

// Profiles for developers (docs/performance.md): NEKOCTL_CPUPROFILE and
// NEKOCTL_HEAPPROFILE name files that receive a CPU profile of the whole run
// and a heap profile taken at its end; NEKOCTL_TRACE an execution trace
// (go tool trace), which shows what a run waits on and when. They are environment variables, not
// flags, so that any command (and the benchmark, which runs the binary) can
// be profiled without changing its arguments.
const (
	envCPUProfile  = "NEKOCTL_CPUPROFILE"
	envHeapProfile = "NEKOCTL_HEAPPROFILE"
	envTrace       = "NEKOCTL_TRACE"
)

// startProfiles starts what the environment asks for; the returned func
// writes the profiles and must run before the process exits.
func startProfiles() func() {
	var cpu *os.File
	if path := os.Getenv(envCPUProfile); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", envCPUProfile, err)
		} else {
			cpu = f
		}
	}
	var tr *os.File
	if path := os.Getenv(envTrace); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = trace.Start(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", envTrace, err)
		} else {
			tr = f
		}
	}
	return func() {
		if tr != nil {
			trace.Stop()
			_ = tr.Close()
		}
		if cpu != nil {
			pprof.StopCPUProfile()
			_ = cpu.Close()
		}
		if path := os.Getenv(envHeapProfile); path != "" {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", envHeapProfile, err)
			}
		}
	}
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows what is live at the end, and what the run allocated
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
