// Package iostreams decides terminal behaviour in one place: colour,
// progress and prompts only on a terminal; plain output when piped.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the command's standard streams and what is known of them.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY, stdoutTTY, stderrTTY bool
	colorDisabled                  bool
	// dumbTerminal cannot move the cursor: no live view.
	dumbTerminal bool
}

// System returns the process's streams.
func System() *IOStreams {
	s := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	s.stdinTTY = isTerminal(os.Stdin)
	s.stdoutTTY = isTerminal(os.Stdout)
	s.stderrTTY = isTerminal(os.Stderr)
	_, noColor := os.LookupEnv("NO_COLOR")
	s.dumbTerminal = os.Getenv("TERM") == "dumb"
	s.colorDisabled = noColor || s.dumbTerminal
	return s
}

// Test returns streams backed by buffers, not a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY makes tests behave as on a terminal.
func (s *IOStreams) SetTTY(in, out bool) { s.stdinTTY, s.stdoutTTY = in, out }

// IsStdoutTTY reports whether output goes to a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// CanPrompt reports whether the user can answer a question.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stdoutTTY }

// ColorEnabled reports whether to colour standard output.
func (s *IOStreams) ColorEnabled() bool { return s.stdoutTTY && !s.colorDisabled }

// ErrColorEnabled reports whether to colour standard error (diagnostics, progress).
func (s *IOStreams) ErrColorEnabled() bool { return s.stderrTTY && !s.colorDisabled }

// LiveProgressEnabled reports whether progress may be drawn live on
// standard error: a terminal that can move its cursor (not TERM=dumb).
// NO_COLOR keeps the live view, without colour.
func (s *IOStreams) LiveProgressEnabled() bool { return s.stderrTTY && !s.dumbTerminal }

// isTerminal asks the terminal driver: /dev/null is a character device too,
// so the file mode alone would colour output sent there.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
