package planfile

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write encodes f as indented JSON. Sensitive values marshal as plan.Mask,
// so the document cannot carry a secret.
func Write(w io.Writer, f *File) error {
	if f.Plan == nil {
		return fmt.Errorf("writing plan file: no plan")
	}
	f.FormatVersion = FormatVersion
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(f)
}

// WriteFile writes f to path through a temporary file in the same
// directory, so that a failed write never leaves half a plan behind.
func WriteFile(path string, f *File) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".nekoctl-plan-*")
	if err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, f); err != nil {
		tmp.Close()
		return fmt.Errorf("writing plan file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	// The plan names the stack's resources: readable by its owner only.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing plan file: %w", err)
	}
	return nil
}
