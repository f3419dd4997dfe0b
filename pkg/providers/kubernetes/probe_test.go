package kubernetes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestOriginProbe: status and the end of up ask the region's address for
// /health with the API hostname, and report the certificate issued by the
// (emulated) Cloudflare Origin CA that nekoctl deployed; an origin that
// stops answering makes the region unhealthy with the reason.
func TestOriginProbe(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "eu-west"
	cf := cfemu.New(t)
	cf.AddZone("nekodefense.example", cfemu.Pro)
	certPEM, pair := cf.IssueOriginCertificate(t, "api.nekodefense.example", "www.api.nekodefense.example")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "api.nekodefense.example" || r.URL.Path != "/health" {
			http.Error(w, "misdirected", http.StatusMisdirectedRequest)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	st := isolatedStack("probe-origin")
	st.Spec.Workload.Exposure.Gateway.Name, st.Spec.Workload.Exposure.Gateway.Namespace = "edge", "probe-origin-platform"
	platformGateway(t, region, "probe-origin-platform", "", st.Spec.Workload.Namespace, tlsSecret)
	st.Spec.Region(region).IngressAddress = host
	st.Spec.Cloudflare.LoadBalancer.Monitor.Port, _ = strconv.Atoi(port)
	dropNamespace(t, region, st.Spec.Workload.Namespace)

	kder, _ := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	out := upstream()
	out.Set(provider.OutOriginCert, plan.NewSensitive(certPEM))
	out.Set(provider.OutOriginKey, plan.NewSensitive(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))))
	p := newProvider(t, st, region, nil)
	applyAll(t, p, planRegion(t, p, out, provider.Options{}), out)

	ev := &events{}
	if err := newProvider(t, st, region, ev).Verify(context.Background()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !contains(ev.messages(), "OriginProbe probe serving: answered 200; certificate issued by") ||
		!contains(ev.messages(), "Emulated CloudFlare Origin CA") || !contains(ev.messages(), ", Cloudflare Origin CA") {
		t.Errorf("events lack the probe's answer and certificate:\n%s", strings.Join(ev.messages(), "\n"))
	}
	probeLine := func() provider.Health {
		hs, err := newProvider(t, st, region, nil).Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			if h.Address.Kind == "OriginProbe" {
				return h
			}
		}
		t.Fatalf("status has no probe line: %+v", hs)
		return provider.Health{}
	}
	if h := probeLine(); !h.Healthy || h.State != "Serving" || !strings.Contains(h.Detail, "expires") {
		t.Errorf("status probe = %+v, want serving with the certificate's expiry", h)
	}

	srv.Close()
	if h := probeLine(); h.Healthy || h.State != "Failing" || !strings.Contains(h.Detail, "refused") {
		t.Errorf("status probe after the origin stopped = %+v, want failing: connection refused", h)
	}
	if err := newProvider(t, st, region, nil).Verify(context.Background()); err == nil || !strings.Contains(err.Error(), "region eu-west") {
		t.Errorf("Verify after the origin stopped = %v, want an error naming the region", err)
	}
}
