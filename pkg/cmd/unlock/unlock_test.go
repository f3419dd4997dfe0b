package unlock

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/lock"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

type fakeLocker struct{ holder *lock.Holder }

func (l *fakeLocker) Acquire(context.Context, time.Duration) (lock.Held, error) { return nil, nil }
func (l *fakeLocker) Holder(context.Context) (*lock.Holder, error)              { return l.holder, nil }
func (l *fakeLocker) Break(context.Context) error                               { l.holder = nil; return nil }
func (l *fakeLocker) Describe() string                                          { return "kube-system/nekoctl-neko-single" }

func TestUnlock(t *testing.T) {
	now := time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	stale := &lock.Holder{Identity: "alice@laptop pid 7 #a1b2c3", Since: now.Add(-time.Hour),
		Renewed: now.Add(-50 * time.Minute), Duration: 15 * time.Second}
	for _, tt := range []struct {
		name      string
		holder    *lock.Holder
		yes, tty  bool
		answer    string
		wantOut   []string
		wantErr   bool
		wantFreed bool
	}{
		{name: "not locked", wantOut: []string{"is not locked"}},
		{name: "--yes breaks it", holder: stale, yes: true, wantFreed: true,
			wantOut: []string{"alice@laptop pid 7", "since 2026-11-29T17:00:00Z", "last renewed 50m0s ago, expired", "released"}},
		{name: "asks on a terminal", holder: stale, tty: true, answer: "yes\n", wantFreed: true, wantOut: []string{"Break this lock?"}},
		{name: "anything else keeps it", holder: stale, tty: true, answer: "no\n", wantErr: true},
		{name: "no terminal needs --yes", holder: stale, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, out, _ := iostreams.Test()
			ios.SetTTY(tt.tty, tt.tty)
			in.WriteString(tt.answer)
			l := &fakeLocker{holder: tt.holder}
			f := &cmdutil.Factory{IOStreams: ios, Now: func() time.Time { return now },
				Locker: func(*spec.Stack, time.Duration) (lock.Locker, error) { return l, nil }}
			err := unlockRun(context.Background(), &UnlockOptions{F: f, File: "../../../examples/single-region.yaml", Yes: tt.yes})
			if (err != nil) != tt.wantErr {
				t.Fatalf("unlock = %v\n%s", err, out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if freed := tt.holder != nil && l.holder == nil; freed != tt.wantFreed {
				t.Errorf("lock broken = %v, want %v", freed, tt.wantFreed)
			}
		})
	}
}
