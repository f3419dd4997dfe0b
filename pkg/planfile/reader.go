package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// MaxFileBytes bounds what the reader accepts; a plan of the guide's stack
// is well under a megabyte.
const MaxFileBytes = 64 << 20

// ErrFormat is wrapped by every refusal of a file this build does not understand.
var ErrFormat = errors.New("not a plan file this nekoctl can read")

// ReadFile reads and checks the plan file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading plan file: %w", err)
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Read decodes a plan file and refuses anything it does not fully
// understand: another format version, unknown fields, unknown actions,
// missing parts. Masked secrets come back as plan.Sensitive (empty) and
// values known only after apply as plan.Unknown, so that every rendering
// shows them as the plan did.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrFormat, MaxFileBytes)
	}
	var head struct {
		FormatVersion *string `json:"format_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil || head.FormatVersion == nil {
		return nil, fmt.Errorf("%w: no format_version (write one with 'nekoctl plan -out FILE')", ErrFormat)
	}
	if err := checkVersion(*head.FormatVersion); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the plan", ErrFormat)
	}
	if err := f.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	for i := range f.Plan.Changes {
		c := &f.Plan.Changes[i]
		c.Before = restoreDoc(c.Before)
		c.After = restoreDoc(c.After)
		for j := range c.Fields {
			c.Fields[j].Before = restore(c.Fields[j].Before)
			c.Fields[j].After = restore(c.Fields[j].After)
		}
	}
	return &f, nil
}

func checkVersion(v string) error {
	major, minor, ok := splitVersion(v)
	wantMajor, wantMinor, _ := splitVersion(FormatVersion)
	switch {
	case !ok:
		return fmt.Errorf("%w: format_version %q is not MAJOR.MINOR", ErrFormat, v)
	case major != wantMajor:
		return fmt.Errorf("%w: format_version %s, this nekoctl reads %d.x", ErrFormat, v, wantMajor)
	case minor > wantMinor:
		return fmt.Errorf("%w: format_version %s was written by a newer nekoctl (this one reads up to %s)", ErrFormat, v, FormatVersion)
	}
	return nil
}

func splitVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	major, errA := strconv.Atoi(a)
	minor, errB := strconv.Atoi(b)
	return major, minor, errA == nil && errB == nil && major >= 0 && minor >= 0
}

var actions = map[plan.Action]bool{plan.NoOp: true, plan.Create: true, plan.Update: true, plan.Replace: true,
	plan.Delete: true, plan.Adopt: true, plan.Keep: true}

func (f *File) check() error {
	switch {
	case f.NekoctlVersion == "":
		return errors.New("no nekoctl_version")
	case f.Spec.Digest == "":
		return errors.New("no spec digest")
	case f.Plan == nil:
		return errors.New("no plan")
	case f.Plan.Stack == "":
		return errors.New("no stack name")
	}
	seen := map[plan.Address]bool{}
	for _, c := range f.Plan.Changes {
		if !actions[c.Action] {
			return fmt.Errorf("%s: unknown action %q", c.Address, c.Action)
		}
		if c.Address.Provider == "" || c.Address.Kind == "" || c.Address.Name == "" {
			return fmt.Errorf("a change without a complete address: %s", c.Address)
		}
		if seen[c.Address] {
			return fmt.Errorf("%s: planned twice", c.Address)
		}
		seen[c.Address] = true
	}
	return nil
}

func restoreDoc(d plan.Document) plan.Document {
	if d == nil {
		return nil
	}
	return restore(d).(plan.Document)
}

// restore turns the JSON forms of masked and unknown leaves back into
// their types.
func restore(v any) any {
	switch x := v.(type) {
	case string:
		if x == plan.Mask {
			return plan.NewSensitive("")
		}
	case map[string]any:
		if from, ok := x["known_after_apply"].(string); ok && isUnknown(x) {
			changes, _ := x["changes"].(bool)
			return plan.Unknown{From: from, Changes: changes}
		}
		for k, e := range x {
			x[k] = restore(e)
		}
	case []any:
		for i, e := range x {
			x[i] = restore(e)
		}
	}
	return v
}

func isUnknown(m map[string]any) bool {
	for k := range m {
		if k != "known_after_apply" && k != "changes" {
			return false
		}
	}
	return true
}
