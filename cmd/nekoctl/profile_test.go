package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestProfilesAreWrittenWhereTheEnvironmentSays: each variable names a file
// that ends up holding its recording; a file that cannot be created is
// reported and the run goes on.
func TestProfilesAreWrittenWhereTheEnvironmentSays(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{envCPUProfile: "cpu.pprof", envHeapProfile: "heap.pprof", envTrace: "run.trace"}
	for env, name := range files {
		t.Setenv(env, filepath.Join(dir, name))
	}
	stop := startProfiles()
	work := make([][]byte, 0, 64)
	for range 64 {
		work = append(work, bytes.Repeat([]byte("neko"), 1<<12))
	}
	stop()
	_ = work
	for env, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %s not written (%v)", env, name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "run.trace")); !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("%s: not an execution trace: %q", envTrace, b[:min(len(b), 16)])
	}
	// gzip, as pprof writes profiles
	for _, name := range []string{"cpu.pprof", "heap.pprof"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s is not a gzipped profile", name)
		}
	}

	t.Setenv(envTrace, filepath.Join(dir, "missing", "run.trace"))
	t.Setenv(envCPUProfile, "")
	t.Setenv(envHeapProfile, "")
	startProfiles()() // reported on stderr, nothing to stop
}
