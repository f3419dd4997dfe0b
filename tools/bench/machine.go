package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// settlePageCache drops the binary from the page cache and runs it once,
// so that every measured run finds it the way a run of an installed binary
// does: read in by the kernel's readahead. A binary the linker has just
// written may sit in the page cache in 2 MB folios, which the kernel maps
// whole into a process that touches any page of them (FilePmdMapped in
// smaps): up to 30 MB more resident for the same run, depending only on how
// the file came into the cache.
func settlePageCache(bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	// Pages the linker has just written are dirty, and the kernel keeps
	// dirty pages however it is advised: they are written back first.
	err = f.Sync()
	if err == nil {
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	f.Close()
	if err != nil {
		return fmt.Errorf("dropping %s from the page cache: %w", bin, err)
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
		return fmt.Errorf("%s version: %v\n%s", bin, err, out)
	}
	return nil
}

// machineBusy is the CPU time the whole machine has spent busy since boot
// (/proc/stat: every state but idle and iowait). Taken around a run, less
// the run's own CPU, it is what the servers, proxies and emulators used
// meanwhile: on one small machine they share the cores with the run.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0
		}
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i >= 8 { // guest time is already counted in user time
			break
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}
