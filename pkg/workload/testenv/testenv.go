// Package testenv starts the real services the workload tests run against:
// a redis-server process and an embedded FerretDB (MongoDB wire protocol
// over SQLite), each on a free loopback port, each stoppable and
// restartable on the same port so that tests can simulate outages.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Redis is a redis-server child process.
type Redis struct {
	Addr string
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartRedis starts redis-server and stops it when the test ends. A test
// that needs Redis fails (it does not skip) when redis-server is missing,
// unless run with -short.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testing.Short() {
			t.Skip("redis-server not installed; skipped under -short")
		}
		t.Fatal("redis-server not found in PATH: install it (Debian: apt-get install redis-server) or run with -short")
	}
	r := &Redis{port: FreePort(t), dir: t.TempDir()}
	r.Addr = "127.0.0.1:" + strconv.Itoa(r.port)
	r.Start(t)
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Start (re)starts the server on its port.
func (r *Redis) Start(t testing.TB) {
	t.Helper()
	if r.cmd != nil {
		return
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning")
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	r.cmd = cmd
	waitTCP(t, r.Addr, "redis-server")
}

// Stop kills the server, as an outage would.
func (r *Redis) Stop(t testing.TB) {
	t.Helper()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// Mongo is an embedded FerretDB with its SQLite files in a temporary
// directory; the data survives Stop and Start.
type Mongo struct {
	URI    string
	addr   string
	dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartMongo starts FerretDB and stops it when the test ends.
func StartMongo(t testing.TB) *Mongo {
	t.Helper()
	m := &Mongo{dir: t.TempDir()}
	m.addr = "127.0.0.1:" + strconv.Itoa(FreePort(t))
	m.URI = "mongodb://" + m.addr + "/"
	m.Start(t)
	t.Cleanup(func() { m.Stop(t) })
	return m
}

// Start (re)starts FerretDB on its address.
func (m *Mongo) Start(t testing.TB) {
	t.Helper()
	if m.cancel != nil {
		return
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: m.addr},
		Logger:    logger(),
		Handler:   "sqlite",
		SQLiteURL: "file:" + filepath.ToSlash(m.dir) + "/",
	})
	if err != nil {
		t.Fatalf("start FerretDB: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go func() {
		defer close(m.done)
		_ = f.Run(ctx)
	}()
	waitTCP(t, m.addr, "FerretDB")
}

// Stop shuts FerretDB down, as an outage would.
func (m *Mongo) Stop(t testing.TB) {
	t.Helper()
	if m.cancel == nil {
		return
	}
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(10 * time.Second):
		t.Errorf("FerretDB did not stop within 10s")
	}
	m.cancel = nil
}

// logger shows FerretDB's warnings in verbose runs only.
func logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("component", "ferretdb")
	}
	return slog.New(slog.DiscardHandler)
}

func waitTCP(t testing.TB, addr, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s within 10s: %v", what, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Env returns the environment for a server using these services, with
// test credentials; extra entries override.
func Env(mongoURI, redisAddr string, extra map[string]string) func(string) string {
	env := map[string]string{
		"MONGODB_URI":          mongoURI,
		"MONGODB_DATABASE":     "nekotest",
		"REDIS_ADDR":           redisAddr,
		"JWT_SECRET":           "test-secret-0123456789abcdef0123456789abcdef",
		"ADMIN_USERNAME":       "admin",
		"ADMIN_PASSWORD":       AdminPassword,
		"VIEWER_USERNAME":      "viewer",
		"VIEWER_PASSWORD":      ViewerPassword,
		"MONGODB_TIMEOUT":      "1s",
		"BREAKER_OPEN_TIMEOUT": "500ms",
		"SHUTDOWN_DRAIN_DELAY": "0s",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// Test credentials.
const (
	AdminPassword  = "admin-password-for-tests"
	ViewerPassword = "viewer-password-for-tests"
)

// Describe is for failure messages.
func (m *Mongo) String() string { return fmt.Sprintf("FerretDB at %s", m.addr) }
