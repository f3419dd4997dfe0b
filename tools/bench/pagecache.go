package bench

import (
	"fmt"
	"os"
	"os/exec"

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
	err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	f.Close()
	if err != nil {
		return fmt.Errorf("dropping %s from the page cache: %w", bin, err)
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
		return fmt.Errorf("%s version: %v\n%s", bin, err, out)
	}
	return nil
}
