package cfemu

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"
)

// IssueOriginCertificate has the emulator's Origin CA issue an ECC
// certificate for hosts through its API, as the Cloudflare provider does,
// and returns it in PEM with the key pair a TLS server presents. The hosts
// must be in a zone of the emulator.
func (s *Server) IssueOriginCertificate(tb testing.TB, hosts ...string) (string, tls.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts}, key)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		"hostnames": hosts, "request_type": "origin-ecc", "requested_validity": 90})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/certificates", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Success bool
		Result  struct{ Certificate string }
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || !r.Success {
		tb.Fatalf("issuing an origin certificate: %v %+v", err, r)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	pair, err := tls.X509KeyPair([]byte(r.Result.Certificate), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	if err != nil {
		tb.Fatal(err)
	}
	return r.Result.Certificate, pair
}
