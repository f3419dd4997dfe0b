package main

import (
	"fmt"
	"io"
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
	stopCPU := startRecording(envCPUProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startRecording(envTrace, trace.Start, trace.Stop)
	return func() {
		stopTrace()
		stopCPU()
		if path := os.Getenv(envHeapProfile); path != "" {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", envHeapProfile, err)
			}
		}
	}
}

// startRecording starts a recording into the file the environment variable
// env names, if it names one; the returned func stops it and closes the file.
func startRecording(env string, start func(io.Writer) error, stop func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err != nil {
			_ = f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", env, err)
		return func() {}
	}
	return func() {
		stop()
		_ = f.Close()
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
