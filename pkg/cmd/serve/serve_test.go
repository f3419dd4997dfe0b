package serve

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

func factory(getenv func(string) string) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer) {
	io, _, out, errOut := iostreams.Test()
	return &cmdutil.Factory{IOStreams: io, Now: time.Now, Getenv: getenv}, out, errOut
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    ServeOptions
		wantErr string
	}{
		{args: nil, want: ServeOptions{SeedTriggers: 5000}},
		{args: []string{"--listen", "127.0.0.1:9090", "--seed", "--triggers", "10"}, want: ServeOptions{Listen: "127.0.0.1:9090", Seed: true, SeedTriggers: 10}},
		{args: []string{"--triggers", "-1"}, wantErr: "--triggers must not be negative"},
		{args: []string{"extra"}, wantErr: `unknown command "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _, _ := factory(nil)
			var got *ServeOptions
			cmd := NewCmdServe(f, func(o *ServeOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.F, got.Signals = nil, nil
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigErrorsNameVariablesNotSecrets(t *testing.T) {
	env := map[string]string{
		"MONGODB_URI":    "postgres://user:hunter2-secret@db",
		"JWT_SECRET":     "short-secret-value",
		"ADMIN_USERNAME": "admin",
		"REDIS_PASSWORD": "redis-secret-value",
		"CACHE_TTLS":     "threatActors=banana",
	}
	f, out, errOut := factory(func(k string) string { return env[k] })
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs(nil)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	if err == nil {
		t.Fatal("serve started with an invalid configuration")
	}
	msg := err.Error() + out.String() + errOut.String()
	for _, want := range []string{"MONGODB_URI must be a mongodb://", "JWT_SECRET must be at least 32 bytes", "ADMIN_PASSWORD is required", "CACHE_TTLS has an invalid entry"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, secret := range []string{"hunter2", "short-secret-value", "redis-secret-value"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows a secret value %q:\n%s", secret, msg)
		}
	}
}

func TestServeSeedsAndShutsDown(t *testing.T) {
	m := testenv.StartMongo(t)
	r := testenv.StartRedis(t)
	addr := "127.0.0.1:" + itoa(testenv.FreePort(t))
	getenv := testenv.Env(m.URI, r.Addr, map[string]string{"LISTEN_ADDR": addr})

	f, out, _ := factory(getenv)
	seedCmd := NewCmdSeed(f, nil)
	seedCmd.SetArgs([]string{"--triggers", "100"})
	if err := seedCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Loaded 24 threat actors and 100 honeypot triggers") {
		t.Errorf("seed output: %q", out.String())
	}

	f, _, errOut := factory(getenv)
	cmd := NewCmdServe(f, nil)
	cmd.SetArgs([]string{"--seed"}) // a second seed is a no-op
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("not ready within 20s; log:\n%s", errOut.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	log := errOut.String()
	for _, want := range []string{`"msg":"seed skipped`, `"msg":"shut down cleanly"`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{testenv.AdminPassword, "test-secret-0123456789abcdef"} {
		if strings.Contains(log, secret) {
			t.Errorf("log shows a secret:\n%s", log)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
