package cfemu

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// validities are the requested_validity values (days) the Origin CA accepts.
var validities = []int{7, 30, 90, 365, 730, 1095, 5475}

type certificate struct {
	ID                string   `json:"id"`
	Certificate       string   `json:"certificate"`
	Hostnames         []string `json:"hostnames"`
	ExpiresOn         string   `json:"expires_on"`
	RequestType       string   `json:"request_type"`
	RequestedValidity int      `json:"requested_validity"`
	CSR               string   `json:"csr"`
	zoneID            string
	revoked           bool
}

func (s *Server) newCA() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"CloudFlare, Inc."}, CommonName: "Emulated CloudFlare Origin CA"},
		NotBefore:             s.now().Add(-time.Hour),
		NotAfter:              s.now().Add(20 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	s.caKey = key
	s.caCert, _ = x509.ParseCertificate(der)
	s.caPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return nil
}

// CertificateCount is the number of unrevoked Origin CA certificates.
func (s *Server) CertificateCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.certs {
		if !c.revoked {
			n++
		}
	}
	return n
}

// CertificatePEMs returns the unrevoked Origin CA certificates in PEM, by id.
func (s *Server) CertificatePEMs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for id, c := range s.certs {
		if !c.revoked {
			out[id] = c.Certificate
		}
	}
	return out
}

// zoneFor returns the zone that hostname (possibly a wildcard) belongs to.
func (s *Server) zoneFor(host string) *zone {
	host = strings.TrimPrefix(strings.ToLower(host), "*.")
	var best *zone
	for _, z := range s.zones {
		if host == z.Name || strings.HasSuffix(host, "."+z.Name) {
			if best == nil || len(z.Name) > len(best.Name) {
				best = z
			}
		}
	}
	return best
}

func (s *Server) listCerts(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	zoneID := r.URL.Query().Get("zone_id")
	if zoneID == "" {
		writeErr(w, http.StatusBadRequest, 1010, "zone_id is required")
		return
	}
	var out []*certificate
	for _, c := range s.certs {
		if c.zoneID == zoneID && !c.revoked {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	writeList(w, r, out, 20, 50)
}

func (s *Server) getCert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[r.PathValue("id")]
	if !ok || c.revoked {
		writeErr(w, http.StatusNotFound, 1003, "certificate not found")
		return
	}
	writeOK(w, c)
}

func (s *Server) revokeCert(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[r.PathValue("id")]
	if !ok || c.revoked {
		writeErr(w, http.StatusNotFound, 1003, "certificate not found")
		return
	}
	c.revoked = true
	writeOK(w, map[string]string{"id": c.ID, "revoked_at": s.stamp()})
}

func (s *Server) createCert(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CSR               string   `json:"csr"`
		Hostnames         []string `json:"hostnames"`
		RequestType       string   `json:"request_type"`
		RequestedValidity *int     `json:"requested_validity"`
	}
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	validity := 5475
	if body.RequestedValidity != nil {
		validity = *body.RequestedValidity
	}
	var errs []apiError
	bad := func(code int, format string, args ...any) {
		errs = append(errs, apiError{code, fmt.Sprintf(format, args...)})
	}
	if !slices.Contains(validities, validity) {
		bad(1012, "requested_validity %d is invalid; use one of %v", validity, validities)
	}
	if body.RequestType != "origin-rsa" && body.RequestType != "origin-ecc" {
		bad(1013, "request_type must be origin-rsa or origin-ecc")
	}
	if len(body.Hostnames) == 0 {
		bad(1014, "hostnames are required")
	}
	var z *zone
	for _, h := range body.Hostnames {
		hz := s.zoneFor(h)
		switch {
		case hz == nil:
			bad(1015, "hostname %s is not in a zone of this account", h)
		case z != nil && hz != z:
			bad(1015, "hostnames must belong to a single zone")
		}
		if strings.Count(h, "*") > 1 || (strings.Contains(h, "*") && !strings.HasPrefix(h, "*.")) {
			bad(1015, "hostname %s: only one leading wildcard label is allowed", h)
		}
		z = hz
	}
	block, _ := pem.Decode([]byte(body.CSR))
	var csr *x509.CertificateRequest
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		bad(1100, "csr is not a PEM encoded certificate request")
	} else if c, err := x509.ParseCertificateRequest(block.Bytes); err != nil || c.CheckSignature() != nil {
		bad(1100, "csr could not be parsed or its signature is invalid")
	} else {
		csr = c
		_, isEC := c.PublicKey.(*ecdsa.PublicKey)
		_, isRSA := c.PublicKey.(*rsa.PublicKey)
		if (body.RequestType == "origin-ecc" && !isEC) || (body.RequestType == "origin-rsa" && !isRSA) {
			bad(1101, "csr key type does not match request_type %s", body.RequestType)
		}
	}
	if len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	now := s.now()
	hosts := slices.Clone(body.Hostnames)
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetUint64(s.rng.Uint64()),
		Subject:      pkix.Name{Organization: []string{"CloudFlare, Inc."}, OrganizationalUnit: []string{"CloudFlare Origin CA"}, CommonName: "CloudFlare Origin Certificate"},
		DNSNames:     hosts,
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Duration(validity) * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, s.caCert, csr.PublicKey, s.caKey)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, 1000, "signing failed")
		return
	}
	c := &certificate{
		ID: s.nextID(), Certificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Hostnames: hosts, ExpiresOn: tmpl.NotAfter.UTC().Format("2006-01-02 15:04:05 -0700 MST"),
		RequestType: body.RequestType, RequestedValidity: validity, CSR: body.CSR, zoneID: z.ID,
	}
	s.certs[c.ID] = c
	writeOK(w, c)
}
