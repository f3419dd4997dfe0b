package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
)

// onTerminal is a nekoctl run on a pseudo-terminal, its screen read as it
// is drawn.
type onTerminal struct {
	cmd    *exec.Cmd
	term   *os.File
	mu     sync.Mutex
	screen bytes.Buffer
	copied chan struct{}
}

func startOnTerminal(t *testing.T, b *binary, args ...string) *onTerminal {
	t.Helper()
	r := &onTerminal{cmd: b.command(args...), copied: make(chan struct{})}
	var err error
	if r.term, err = pty.StartWithSize(r.cmd, &pty.Winsize{Rows: 40, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.term.Close() })
	go func() {
		// Reading ends with EIO once the binary exits and the terminal closes.
		_, _ = io.Copy(r, r.term)
		close(r.copied)
	}()
	return r
}

func (r *onTerminal) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.screen.Write(p)
}

func (r *onTerminal) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.screen.String()
}

// waitFor waits until the screen shows re.
func (r *onTerminal) waitFor(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !re.MatchString(r.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %s:\n%q", re, r.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the binary to exit and returns the whole screen.
func (r *onTerminal) wait() (string, error) {
	err := r.cmd.Wait()
	<-r.copied
	return r.String(), err
}

// spinnerLine is a change in flight as the live view draws it: a spinner
// frame, the elapsed time, the change, and the Atlas cluster's state.
var spinnerLine = regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] +([0-9]+m)?([0-9]+)s updating atlas\[[^\]]+\]\.cluster\["neko-global"\]: UPDATING`)

// interruptedSummary ends an apply stopped by Ctrl-C.
var interruptedSummary = regexp.MustCompile(`Interrupted: [0-9]+ change\(s\) made, [0-9]+ not made \(interrupted\), [0-9]+ failed, [0-9]+ skipped\.`)

// summaryLine ends every apply.
var summaryLine = regexp.MustCompile(`Applied ([0-9]+) change\(s\), ([0-9]+) failed, ([0-9]+) skipped(, [0-9]+ not made \(interrupted\))?\.`)

// testLiveView runs up on a pseudo-terminal while the cluster takes a few
// seconds to change tier and Cloudflare answers slowly: the view draws a
// spinner line with the elapsed time and the cluster's state, redraws in
// place, and ends with the counter and the summary.
func testLiveView(t *testing.T, b *binary) {
	b.w.WriteSpec(t, strings.NewReplacer("replicas: {min: 3, max: 10}", "replicas: {min: 5, max: 10}", "tier: M10", "tier: M20"))
	b.w.Atlas.SetDurations(50*time.Millisecond, 4*time.Second, 50*time.Millisecond)
	b.w.CF.SetFaults(cfemu.Faults{Latency: 100 * time.Millisecond})
	defer b.w.CF.SetFaults(cfemu.Faults{})

	out, err := startOnTerminal(t, b, "up", "-f", b.w.Spec, "--yes").wait()
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
	summary := summaryLine.FindStringSubmatch(out)
	if summary == nil || summary[2] != "0" || summary[3] != "0" || summary[4] != "" {
		t.Fatalf("no final summary of a complete apply:\n%q", out)
	}
	if counter := summary[1] + "/" + summary[1] + " done  "; !strings.Contains(out, counter) {
		t.Errorf("the view did not end on %q:\n%q", counter, out)
	}
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
}

// testInterruptedLiveView presses Ctrl-C while the live view shows the
// cluster changing tier: the view ends with its counter line, the summary
// follows, the lock is released, and the next up converges.
func testInterruptedLiveView(t *testing.T, b *binary) {
	b.w.WriteSpec(t, strings.NewReplacer("replicas: {min: 3, max: 10}", "replicas: {min: 5, max: 10}", "tier: M10", "tier: M30"))
	b.w.Atlas.SetDurations(50*time.Millisecond, 6*time.Second, 50*time.Millisecond)

	r := startOnTerminal(t, b, "up", "-f", b.w.Spec, "--yes")
	r.waitFor(t, spinnerLine)
	before := len(r.String())
	if _, err := r.term.Write([]byte{0x03}); err != nil { // Ctrl-C, as the terminal sends it
		t.Fatal(err)
	}
	interrupted := time.Now()
	out, _ := r.wait()
	t.Logf("the run ended %s after Ctrl-C", time.Since(interrupted).Round(time.Millisecond))

	after := out[before:]
	final := regexp.MustCompile(`[0-9]+/[0-9]+ done[^\n\x1b]*  [0-9hms]+\r?\n`)
	if !final.MatchString(after) {
		t.Errorf("the view did not end on its counter line after Ctrl-C:\n%q", after)
	}
	// A run that finished before the interrupt took hold ends with the
	// usual summary; an interrupted one lists what was made and what not.
	if m := summaryLine.FindStringSubmatch(after); m == nil && !interruptedSummary.MatchString(after) {
		t.Errorf("no summary after Ctrl-C:\n%q", after)
	}
	if h := b.lockHolder(t); h != "" {
		t.Errorf("the lock is still held after the interrupted run, by %q", h)
	}
	b.mustRun(t, 0, "up", "-f", b.w.Spec, "--yes")
	b.mustRun(t, 0, "plan", "-f", b.w.Spec, "--detailed-exitcode")
}
