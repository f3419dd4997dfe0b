package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
)

// spinnerLine is a change in flight as the live view draws it: a spinner
// frame, the elapsed time, the change, and the Atlas cluster's state.
var spinnerLine = regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] +([0-9]+m)?([0-9]+)s updating atlas\[[^\]]+\]\.cluster\["neko-global"\]: UPDATING`)

// testLiveView runs up on a pseudo-terminal while the cluster takes a few
// seconds to change tier and Cloudflare answers slowly: the view draws a
// spinner line with the elapsed time and the cluster's state, redraws in
// place, and ends with the counter and the summary.
func testLiveView(t *testing.T, b *binary) {
	b.w.WriteSpec(t, strings.NewReplacer("replicas: {min: 3, max: 10}", "replicas: {min: 5, max: 10}", "tier: M10", "tier: M20"))
	b.w.Atlas.SetDurations(50*time.Millisecond, 4*time.Second, 50*time.Millisecond)
	b.w.CF.SetFaults(cfemu.Faults{Latency: 100 * time.Millisecond})
	defer b.w.CF.SetFaults(cfemu.Faults{})

	cmd := b.command("up", "-f", b.w.Spec, "--yes")
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// Reading ends with EIO once the binary exits and the terminal closes.
		_, _ = io.Copy(&screen, term)
		close(copied)
	}()
	err = cmd.Wait()
	<-copied
	out := screen.String()
	if err != nil {
		t.Fatalf("up on a terminal: %v\n%s", err, out)
	}

	seen := false
	for _, m := range spinnerLine.FindAllStringSubmatch(out, -1) {
		if m[1] != "" || m[2] != "0" {
			seen = true
		}
	}
	if !seen {
		t.Errorf("no spinner line with an elapsed time and the cluster's state:\n%q", out)
	}
	if !strings.Contains(out, "A\x1b[J") {
		t.Errorf("the view never redrew in place:\n%q", out)
	}
	summary := regexp.MustCompile(`Applied ([0-9]+) change\(s\), 0 failed, 0 skipped\.`).FindStringSubmatch(out)
	if summary == nil {
		t.Fatalf("no final summary:\n%q", out)
	}
	if counter := summary[1] + "/" + summary[1] + " done  "; !strings.Contains(out, counter) {
		t.Errorf("the view did not end on %q:\n%q", counter, out)
	}
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
}
