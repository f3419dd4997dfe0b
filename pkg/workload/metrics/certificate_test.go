package metrics

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeCert writes a self-signed PEM certificate valid until notAfter,
// followed by its CA's (a chain: the first block is the leaf).
func writeCert(t *testing.T, path string, notAfter time.Time) {
	t.Helper()
	var out []byte
	for i, until := range []time.Time{notAfter, notAfter.Add(365 * 24 * time.Hour)} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "api.nekodefense.example"},
			NotBefore: notAfter.Add(-24 * time.Hour), NotAfter: until}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	// Written as the kubelet updates a Secret volume: a new file swapped in.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// The gauge is the leaf certificate's notAfter, read at every scrape: a
// renewed certificate shows without a restart, and an unreadable file
// drops the sample and counts an error instead of failing the scrape.
func TestOriginCertificateExpiry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tls.crt")
	first := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	writeCert(t, path, first)
	m := New()
	m.WatchCertificate(path)

	if v, ok := sample(t, m, OriginCertificateExpiry); !ok || v != float64(first.Unix()) {
		t.Errorf("%s = %g (present %t), want %d", OriginCertificateExpiry, v, ok, first.Unix())
	}
	renewed := first.Add(90 * 24 * time.Hour)
	writeCert(t, path, renewed)
	if v, _ := sample(t, m, OriginCertificateExpiry); v != float64(renewed.Unix()) {
		t.Errorf("after renewal %g, want %d", v, renewed.Unix())
	}

	if err := os.WriteFile(path, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, ok := sample(t, m, OriginCertificateExpiry); ok {
		t.Errorf("unreadable certificate: sample %g, want none", v)
	}
	// Every scrape reads the file again: the two above each counted one.
	if v, _ := sample(t, m, Namespace+"_origin_certificate_read_errors_total"); v < 1 {
		t.Errorf("read errors = %g, want the failed scrapes counted", v)
	}
}

// sample gathers the registry (as a scrape does, failing on any error) and
// returns the value of the single sample of name.
func sample(t *testing.T, m *Metrics, name string) (float64, bool) {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		s := mf.GetMetric()[0]
		if s.GetGauge() != nil {
			return s.GetGauge().GetValue(), true
		}
		return s.GetCounter().GetValue(), true
	}
	return 0, false
}
