package planfile

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

const secret = "s3cr3t-pa55w0rd"

var (
	zoneSSL = plan.Address{Provider: "cloudflare", Scope: "zone/nekodefense.example", Kind: "zone_setting", Name: "ssl"}
	user    = plan.Address{Provider: "atlas", Scope: "project/neko", Kind: "database_user", Name: "neko-api"}
	deploy  = plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Deployment", Name: "neko-defense/neko-api"}
	mongo   = plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Secret", Name: "neko-defense/mongodb"}
)

// livePlan is a plan as the engine makes it, secrets and all.
func livePlan() *plan.Plan {
	return &plan.Plan{Stack: "neko", Changes: []plan.Change{
		{Address: zoneSSL, Action: plan.Update, ID: "ssl", Fingerprint: "2026-11-29T10:00:00Z",
			Before: plan.Document{"value": "full"}, After: plan.Document{"value": "strict"},
			Fields: []plan.Field{{Path: "value", Before: "full", After: "strict"}}},
		{Address: user, Action: plan.Create,
			After: plan.Document{"username": "neko-api", "password": plan.NewSensitive(secret), "roles": []any{plan.Document{"roleName": "readWrite"}}}},
		{Address: deploy, Action: plan.NoOp, ID: "neko-defense/neko-api", Fingerprint: "812",
			Before: plan.Document{"spec": plan.Document{"replicas": 3, "image": "neko-defense/nekoctl:1.0.0"}},
			After:  plan.Document{"spec": plan.Document{"replicas": 3, "image": "neko-defense/nekoctl:1.0.0"}}},
		{Address: mongo, Action: plan.Update, Fingerprint: "813",
			Before: plan.Document{"data": plan.Document{"uri": plan.NewSensitive("mongodb+srv://old:" + secret + "@x")}},
			After:  plan.Document{"data": plan.Document{"uri": plan.Unknown{From: "atlas/mongodb_uri", Changes: true}}},
			Fields: []plan.Field{{Path: "data.uri", Before: plan.NewSensitive("old"), After: plan.Unknown{From: "atlas/mongodb_uri", Changes: true}}}},
	}}
}

func sampleFile() *File {
	return &File{NekoctlVersion: "1.2.3", CreatedAt: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
		Spec: Spec{Path: "nekoctl.yaml", Digest: "sha256:abc"}, Options: Options{Adopt: true}, Plan: livePlan()}
}

func roundTrip(t *testing.T, f *File) (*File, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	got, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("reading what was written: %v\n%s", err, buf.String())
	}
	return got, buf.String()
}

func TestRoundTripHoldsNoSecret(t *testing.T) {
	got, text := roundTrip(t, sampleFile())
	if strings.Contains(text, secret) {
		t.Fatalf("the plan file holds a secret:\n%s", text)
	}
	for _, want := range []string{`"format_version": "1.0"`, `"nekoctl_version": "1.2.3"`, `"digest": "sha256:abc"`,
		`"fingerprint": "812"`, `"known_after_apply": "atlas/mongodb_uri"`, `"password": "(sensitive)"`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s in:\n%s", want, text)
		}
	}
	if got.Options != (Options{Adopt: true}) || got.Spec.Path != "nekoctl.yaml" {
		t.Errorf("header lost: %+v", got)
	}
	if _, ok := got.Plan.Changes[1].After["password"].(plan.Sensitive); !ok {
		t.Errorf("masked value not read back as sensitive: %#v", got.Plan.Changes[1].After["password"])
	}
	if u, ok := got.Plan.Changes[3].After["data"].(map[string]any)["uri"].(plan.Unknown); !ok || !u.Changes {
		t.Errorf("unknown value not read back: %#v", got.Plan.Changes[3].After)
	}
	if _, ok := got.Plan.Changes[3].Fields[0].After.(plan.Unknown); !ok {
		t.Errorf("unknown field value not read back: %#v", got.Plan.Changes[3].Fields[0])
	}
}

func TestReadRefusesWhatItDoesNotUnderstand(t *testing.T) {
	_, good := roundTrip(t, sampleFile())
	tests := []struct {
		name, text, want string
	}{
		{name: "not json", text: "apiVersion: nekoctl.dev/v1alpha1\n", want: "no format_version"},
		{name: "json without version", text: `{"plan": {}}`, want: "no format_version"},
		{name: "other major", text: strings.Replace(good, `"format_version": "1.0"`, `"format_version": "2.0"`, 1), want: "this nekoctl reads 1.x"},
		{name: "newer minor", text: strings.Replace(good, `"format_version": "1.0"`, `"format_version": "1.7"`, 1), want: "written by a newer nekoctl"},
		{name: "malformed version", text: strings.Replace(good, `"format_version": "1.0"`, `"format_version": "one"`, 1), want: "not MAJOR.MINOR"},
		{name: "unknown field", text: strings.Replace(good, `"options": {`, `"options": {"region": ["us-east"], `, 1), want: `unknown field "region"`},
		{name: "unknown action", text: strings.Replace(good, `"action": "update"`, `"action": "import"`, 1), want: `unknown action "import"`},
		{name: "no digest", text: strings.Replace(good, `"digest": "sha256:abc"`, `"digest": ""`, 1), want: "no spec digest"},
		{name: "trailing data", text: good + "{}", want: "data after the plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.text))
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a format error containing %q", err, tt.want)
			}
		})
	}
}

func TestCheckHeader(t *testing.T) {
	f := sampleFile()
	if err := CheckHeader(f, "1.2.3", "sha256:abc"); err != nil {
		t.Fatalf("same version and spec refused: %v", err)
	}
	err := CheckHeader(f, "1.2.4", "sha256:def")
	var se *StaleError
	if !errors.As(err, &se) || len(se.Problems) != 2 {
		t.Fatalf("got %v, want two problems", err)
	}
	for _, want := range []string{"planned with nekoctl 1.2.3, this is nekoctl 1.2.4", "the spec changed since the plan (nekoctl.yaml)", "nekoctl plan -out FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
}

func TestCheckReturnsTheFreshChangesOfTheSavedAddresses(t *testing.T) {
	saved, _ := roundTrip(t, sampleFile())
	fresh := livePlan()
	extra := plan.Change{Address: plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "ConfigMap", Name: "neko-defense/new"}, Action: plan.Delete}
	fresh.Changes = append([]plan.Change{extra}, fresh.Changes...)
	got, err := Check(saved, fresh)
	if err != nil {
		t.Fatal(err)
	}
	want := livePlan()
	if diff := cmp.Diff(want.Changes, got.Changes, cmp.Comparer(func(a, b plan.Sensitive) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if pw := got.Changes[1].After["password"].(plan.Sensitive); pw.Reveal() != secret {
		t.Error("the change to apply lost the secret value of the fresh read")
	}
}

func TestCheckNamesEveryStaleResource(t *testing.T) {
	saved, _ := roundTrip(t, sampleFile())
	fresh := livePlan()
	fresh.Changes[0].Fingerprint = "2026-11-29T11:00:00Z" // a zone setting edited behind the plan's back
	fresh.Changes = append(fresh.Changes[:1], fresh.Changes[2:]...)
	fresh.Changes[1].Before = plan.Document{"spec": plan.Document{"replicas": 3, "image": "x:2"}} // no new fingerprint
	fresh.Changes[1].Fingerprint = "812"
	fresh.Changes[2].Action = plan.NoOp // applied already
	_, err := Check(saved, fresh)
	var se *StaleError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a stale plan", err)
	}
	want := []Problem{
		{Address: zoneSSL.String(), Reason: "changed since the plan (live version 2026-11-29T10:00:00Z, now 2026-11-29T11:00:00Z)"},
		{Address: user.String(), Reason: "planned to create, no longer planned at all"},
		{Address: deploy.String(), Reason: `changed since the plan: spec.image "neko-defense/nekoctl:1.0.0" → "x:2"`},
		{Address: mongo.String(), Reason: "planned to update, it would now no-op"},
	}
	if diff := cmp.Diff(want, se.Problems); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCheckRefusesWhenTheReadFails(t *testing.T) {
	saved, _ := roundTrip(t, sampleFile())
	fresh := livePlan()
	fresh.Diagnostics = []plan.Diagnostic{{Severity: plan.SeverityError, Message: "kubernetes (region us-east): API server unreachable"}}
	_, err := Check(saved, fresh)
	if err == nil || !strings.Contains(err.Error(), "API server unreachable") {
		t.Errorf("got %v", err)
	}
}

// TestPartialPlanKeepsItsSelection: a partial plan saved and checked again
// still says what selected it and what each dependency was pulled in by,
// and applies only its own addresses.
func TestPartialPlanKeepsItsSelection(t *testing.T) {
	f := sampleFile()
	f.Plan.Changes = f.Plan.Changes[1:]
	f.Plan.Changes[0].PulledInBy = &mongo
	f.Plan.Selection = &plan.Selection{Regions: []string{"us-east"}}
	saved, _ := roundTrip(t, f)
	got, err := Check(saved, livePlan())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Partial() || got.Selection.Regions[0] != "us-east" {
		t.Errorf("the checked plan lost its selection: %+v", got.Selection)
	}
	if len(got.Changes) != 3 || got.Changes[0].PulledInBy == nil || *got.Changes[0].PulledInBy != mongo {
		t.Errorf("the checked plan lost what pulled the user in: %+v", got.Changes)
	}
}
