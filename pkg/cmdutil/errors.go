package cmdutil

import (
	"errors"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Exit codes, mapped from errors in one place (ExitCode).
const (
	ExitOK      = 0
	ExitError   = 1
	ExitChanges = 2 // plan --detailed-exitcode: changes present
	// ExitUnhealthy: status found a part of the stack unhealthy.
	ExitUnhealthy = 3
	// ExitUnreachable: status could not reach a part of the stack, and all
	// that answered is healthy.
	ExitUnreachable = 4
)

// FlagError is a usage mistake; the command's usage is shown with it.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ExitCodeError ends the command with a code after it has printed what it
// had to say (such as "changes present").
type ExitCodeError struct{ Code int }

func (e *ExitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// ErrSilent ends a command with ExitError after it has already reported why.
var ErrSilent = errors.New("silent error")

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	var ec *ExitCodeError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ec):
		return ec.Code
	case errors.Is(err, ErrInterrupted), errors.Is(err, ErrAborted):
		return ExitInterrupted
	}
	return ExitError
}

// IsReported tells the root command not to print err again.
func IsReported(err error) bool {
	var ve *spec.ValidationError
	var ec *ExitCodeError
	return errors.Is(err, ErrSilent) || errors.As(err, &ve) || errors.As(err, &ec)
}
