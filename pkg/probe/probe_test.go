package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
)

const apiHost = "api.nekodefense.example"

// originPair has the emulator's Origin CA issue a certificate for the API
// hostnames, as the Cloudflare provider does for a stack.
func originPair(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	s := cfemu.New(t)
	s.AddZone("nekodefense.example", cfemu.Pro)
	return s.IssueOriginCertificate(t, apiHost, "www."+apiHost)
}

// origin starts a local TLS server with pair that answers /health with
// code, for requests whose Host is the API hostname.
func origin(t *testing.T, pair tls.Certificate, code int, requireClientCert bool) (string, int) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != apiHost || r.TLS == nil || r.TLS.ServerName != apiHost || r.URL.Path != "/health" {
			http.Error(w, "wrong host, server name or path", http.StatusMisdirectedRequest)
			return
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if requireClientCert {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, x509.NewCertPool()
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return host, p
}

func TestProbeOriginCACertificate(t *testing.T) {
	certPEM, pair := originPair(t)
	addr, port := origin(t, pair, http.StatusOK, false)
	r := Run(context.Background(), Request{Address: addr, Port: port, Host: apiHost, Path: "/health", OriginCert: certPEM})
	if !r.Healthy || r.Status != 200 || r.Skipped != "" || r.Error != "" {
		t.Fatalf("result = %+v, want healthy 200", r)
	}
	c := r.Certificate
	if c == nil || !c.OriginCA || c.Deployed == nil || !*c.Deployed || !c.CoversHost ||
		!strings.Contains(c.Issuer, "Emulated CloudFlare Origin CA") {
		t.Fatalf("certificate = %+v, want the deployed Origin CA certificate", c)
	}
	if d := time.Until(c.NotAfter); d < 89*24*time.Hour || d > 91*24*time.Hour {
		t.Errorf("expiry %s, want 90 days from now", c.NotAfter)
	}
	if s := r.Summary(); !strings.Contains(s, "answered 200") || !strings.Contains(s, "Cloudflare Origin CA") {
		t.Errorf("summary %q", s)
	}
}

func TestProbeFailures(t *testing.T) {
	certPEM, pair := originPair(t)
	t.Run("unhealthy answer", func(t *testing.T) {
		addr, port := origin(t, pair, http.StatusServiceUnavailable, false)
		r := Run(context.Background(), Request{Address: addr, Port: port, Host: apiHost, OriginCert: certPEM})
		if r.Healthy || r.Status != 503 || !strings.Contains(r.Error, "503") {
			t.Errorf("result = %+v, want unhealthy 503", r)
		}
	})
	t.Run("another certificate", func(t *testing.T) {
		_, other := originPair(t)
		addr, port := origin(t, other, http.StatusOK, false)
		r := Run(context.Background(), Request{Address: addr, Port: port, Host: apiHost, OriginCert: certPEM})
		if r.Healthy || r.Certificate == nil || r.Certificate.Deployed == nil || *r.Certificate.Deployed {
			t.Errorf("result = %+v, want unhealthy: not the deployed certificate", r)
		}
	})
	t.Run("client certificate required", func(t *testing.T) {
		addr, port := origin(t, pair, http.StatusOK, true)
		r := Run(context.Background(), Request{Address: addr, Port: port, Host: apiHost, OriginCert: certPEM})
		if !r.ClientCertRequired || !r.Healthy || r.Certificate == nil || !r.Certificate.OriginCA {
			t.Errorf("result = %+v, want the origin to ask for Cloudflare's client certificate", r)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		r := Run(context.Background(), Request{Address: "127.0.0.1", Port: port, Host: apiHost})
		if r.Healthy || r.Skipped != "" || !strings.Contains(r.Error, "refused") {
			t.Errorf("result = %+v, want a refused connection", r)
		}
	})
}

// TestProbeSkipsUnreachable: addresses that cannot be reached from here are
// skipped with a note, and nothing is sent to them.
func TestProbeSkipsUnreachable(t *testing.T) {
	for _, addr := range []string{"10.1.2.3", "192.168.0.10", "203.0.113.10", "198.51.100.7", "100.64.1.1", "fd00::1", "lb.ap.example.net"} {
		r := Run(context.Background(), Request{Address: addr, Port: 443, Host: apiHost})
		if r.Skipped == "" || r.Healthy || r.Certificate != nil {
			t.Errorf("%s: result = %+v, want skipped", addr, r)
		}
	}
}
