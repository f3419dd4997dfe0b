package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "90s", "10m", "4h" or "30d".
type Duration struct{ time.Duration }

// Dur builds a Duration; tests and defaults use it.
func Dur(d time.Duration) *Duration { return &Duration{d} }

// ParseDuration accepts Go durations plus a whole-day suffix "d".
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit, such as 60s, 10m, 4h or 30d", s)
	}
	return d, nil
}

// Seconds returns the whole seconds, the unit every remote API takes.
func (d Duration) Seconds() int { return int(d.Duration / time.Second) }

func (d Duration) String() string {
	if d.Duration >= 24*time.Hour && d.Duration%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d.Duration/(24*time.Hour))) + "d"
	}
	return d.Duration.String()
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as 60s, 10m or 4h")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}
