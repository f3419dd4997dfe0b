package server_test

import (
	"log/slog"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/neko-defense/nekoctl/pkg/workload/server"
)

func TestMain(m *testing.M) {
	// The outage tests make the Redis client log every failed dial; the
	// breaker metrics are what the tests look at.
	redis.SetLogger(server.RedisLogger(slog.New(slog.DiscardHandler)))
	os.Exit(m.Run())
}
