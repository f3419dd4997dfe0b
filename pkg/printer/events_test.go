package printer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

func eventFor(c plan.Change) event.Event {
	return event.Event{Type: event.Succeeded, Address: c.Address, Action: c.Action, Elapsed: 1500 * time.Millisecond}
}

func TestEventLines(t *testing.T) {
	var buf bytes.Buffer
	sink := EventLines(&buf, false)
	a := plan.Address{Provider: "atlas", Scope: "project/neko", Kind: "cluster", Name: "neko"}
	sink(event.Event{Type: event.Started, Address: a, Action: plan.Create})
	sink(event.Event{Type: event.Progress, Address: a, Message: "state CREATING", Elapsed: 90 * time.Second})
	sink(event.Event{Type: event.Failed, Address: a, Action: plan.Create, Err: "boom"})
	sink(event.Event{Type: event.Skipped, Address: a, Message: "depends on x"})
	want := strings.Join([]string{
		`atlas[project/neko].cluster["neko"]: creating...`,
		`atlas[project/neko].cluster["neko"]: state CREATING [1m30s]`,
		`atlas[project/neko].cluster["neko"]: failed: boom`,
		`atlas[project/neko].cluster["neko"]: skipped: depends on x`,
	}, "\n") + "\n"
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestEventJSONCarriesFormatVersion(t *testing.T) {
	var buf bytes.Buffer
	EventJSON(&buf)(event.Event{Type: event.Succeeded, Address: plan.Address{Provider: "atlas", Kind: "cluster", Name: "n"}})
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format_version"] != plan.FormatVersion || doc["type"] != "succeeded" || doc["resource"] == "" {
		t.Errorf("unexpected event JSON: %s", buf.String())
	}
}
