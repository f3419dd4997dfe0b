package kubernetes

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

// env is the three-region test cluster; nil under -short.
var env *kubetest.Env

var regions = []string{"us-east", "eu-west", "asia-pacific"}

// gatewayAddress is what each region's Gateway reports.
var gatewayAddress = map[string]string{
	"us-east": "203.0.113.10", "eu-west": "203.0.113.20", "asia-pacific": "lb.ap.example.net",
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "kubernetes: -short: tests against real API servers are skipped")
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	start := time.Now()
	e, err := kubetest.Start(ctx, kubetest.Options{}, regions...)
	if err == nil {
		for _, r := range regions {
			if err = e.CreateGateway(ctx, r, "gateway-system", "public-gateway", gatewayAddress[r]); err != nil {
				break
			}
		}
	}
	if err == nil {
		// Only us-east runs the Prometheus Operator: elsewhere monitoring
		// objects must be skipped with a note.
		err = e.InstallPrometheusOperatorCRDs(ctx, "us-east")
	}
	cancel()
	if err != nil {
		if e != nil {
			e.Stop()
		}
		fmt.Fprintln(os.Stderr, "kubernetes: starting the test clusters:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "kubernetes: %d API servers ready in %s\n", len(regions), time.Since(start).Round(100*time.Millisecond))
	env = e
	code := m.Run()
	e.Stop()
	os.Exit(code)
}

// needCluster skips a test under -short, saying why.
func needCluster(t *testing.T) {
	t.Helper()
	if env == nil {
		t.Skip("skipped under -short: needs the real API servers")
	}
}
