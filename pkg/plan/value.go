package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
)

// Document is a resource's owned fields as JSON-like data: maps, slices,
// strings, numbers, bools, nil, plus Sensitive and Unknown leaves.
type Document = map[string]any

// Mask is what every rendering shows instead of a sensitive value.
const Mask = "(sensitive)"

// Sensitive wraps a secret. It renders as Mask through fmt, JSON, text and
// YAML marshalling, so no printer or log line can leak it; only Reveal, used
// by the provider that sends it, returns the value.
type Sensitive struct{ value string }

func NewSensitive(v string) Sensitive { return Sensitive{value: v} }

// Reveal returns the secret for the one call that must send it.
func (s Sensitive) Reveal() string { return s.value }

// Digest identifies the value without revealing it, for comparisons.
func (s Sensitive) Digest() string {
	h := sha256.Sum256([]byte(s.value))
	return hex.EncodeToString(h[:8])
}

func (s Sensitive) String() string               { return Mask }
func (s Sensitive) GoString() string             { return Mask }
func (s Sensitive) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, Mask) }
func (s Sensitive) MarshalJSON() ([]byte, error) { return json.Marshal(Mask) }
func (s Sensitive) MarshalText() ([]byte, error) { return []byte(Mask), nil }
func (s Sensitive) MarshalYAML() (any, error)    { return Mask, nil }
func (s Sensitive) Equal(o Sensitive) bool       { return s.value == o.value }

// Unknown marks a value known only after apply, such as a region's public
// address or a connection string. From names the output that will supply it.
type Unknown struct {
	From string `json:"known_after_apply"`
	// Changes says the value will differ from the live one (a rotated
	// secret), so a diff must not take the live value as a match.
	Changes bool `json:"changes,omitempty"`
}

func (u Unknown) String() string {
	if u.Changes {
		return "(new value after apply)"
	}
	return "(known after apply)"
}
