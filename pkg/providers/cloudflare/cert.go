package cloudflare

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// newKeyAndCSR makes the origin's private key and a CSR for hostnames. The
// key never leaves this process except as a plan.Sensitive output.
func newKeyAndCSR(requestType string, hostnames []string) (keyPEM, csrPEM string, err error) {
	var key crypto.Signer
	if requestType == "origin-rsa" {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: hostnames[0]},
		DNSNames: hostnames,
	}, key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), nil
}

func parseKey(keyPEM string) crypto.Signer {
	b, _ := pem.Decode([]byte(keyPEM))
	if b == nil {
		return nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		s, _ := k.(crypto.Signer)
		return s
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k
	}
	if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		return k
	}
	return nil
}

// keyMatches reports whether the private key belongs to the certificate.
func keyMatches(keyPEM, certPEM string) bool {
	k := parseKey(keyPEM)
	b, _ := pem.Decode([]byte(certPEM))
	if k == nil || b == nil {
		return false
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return false
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(k.Public())
}

// applyCert issues a certificate from a fresh key, publishes certificate and
// key (as plan.Sensitive) for the regions' TLS Secret, and on replace
// revokes the previous certificate.
func (p *Provider) applyCert(ctx context.Context, zoneID string, c plan.Change, doc plan.Document, out provider.Outputs) error {
	var hosts []string
	for _, h := range asList(doc["hostnames"]) {
		hosts = append(hosts, fmt.Sprint(h))
	}
	keyPEM, csrPEM, err := newKeyAndCSR(str(doc, "request_type"), hosts)
	if err != nil {
		return fmt.Errorf("generating the origin key: %w", err)
	}
	body := obj{"csr": csrPEM, "hostnames": hosts, "request_type": doc["request_type"], "requested_validity": doc["requested_validity"]}
	o, err := p.create(ctx, c.Address,
		func() (obj, error) { return p.api.send(ctx, http.MethodPost, "certificates", body) },
		func() (obj, error) {
			cs, err := p.api.list(ctx, "certificates", url.Values{"zone_id": {zoneID}})
			return findIn(cs, func(o obj) bool { return keyMatches(keyPEM, str(o, "certificate")) }), err
		})
	if err != nil {
		return err
	}
	certPEM := str(o, "certificate")
	if !keyMatches(keyPEM, certPEM) {
		return fmt.Errorf("the issued certificate does not match the generated key")
	}
	if out != nil {
		out.Set(provider.OutOriginCert, plan.NewSensitive(certPEM))
		out.Set(provider.OutOriginKey, plan.NewSensitive(keyPEM))
	}
	p.mu.Lock()
	p.inKey, p.inCert = keyPEM, certPEM
	p.state.cert = &liveCert{id: str(o, "id"), pem: certPEM, expiresOn: parseExpiry(str(o, "expires_on"))}
	p.mu.Unlock()
	if c.Action == plan.Replace && c.ID != "" {
		if _, err := p.api.send(ctx, http.MethodDelete, "certificates/"+c.ID, nil); err != nil && status(err) != http.StatusNotFound {
			p.cfg.Events(event.Event{Time: p.cfg.Now(), Type: event.Warning, Address: c.Address,
				Message: "the previous certificate " + c.ID + " could not be revoked: " + apiErr(err).Error()})
		}
	}
	return nil
}

// chooseCert runs once every provider has read, when the key held in the
// regions' TLS Secrets is known. The stack keeps the certificate that key
// belongs to (else the one that expires last); every other certificate for
// the stack's hostnames is a duplicate to delete. It decides whether a new
// certificate must be issued and tells the regions through in: the kept
// certificate with its key, or both marked as changing, so that the TLS
// Secrets are rewritten after the new certificate is issued.
func (p *Provider) chooseCert(in provider.Outputs) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := &p.state
	if !st.read {
		return
	}
	keep := slices.IndexFunc(st.certs, func(c liveCert) bool { return p.inKey != "" && keyMatches(p.inKey, c.pem) })
	matched := keep >= 0
	if !matched && len(st.certs) > 0 {
		keep = 0
	}
	st.cert, st.certKeep, st.certIssue = nil, keep, ""
	if keep < 0 {
		st.certIssue = "none exists"
	} else {
		kept := st.certs[keep]
		st.cert = &kept
		why := fmt.Sprintf("the regions' TLS Secrets hold the key of certificate %s", kept.id)
		if !matched {
			why = fmt.Sprintf("certificate %s, which expires last, is kept", kept.id)
		}
		for i, c := range st.certs {
			if i != keep {
				st.dups[p.zoneAddr(KindOriginCert, dupName(p.lbHost(), c.id))] = "a second Origin CA certificate for the stack's hostnames; " + why
			}
		}
		renewBefore := p.cf.OriginCert.RenewBefore
		switch {
		case renewBefore != nil && kept.expiresOn.Sub(p.cfg.Now()) < renewBefore.Duration:
			st.certIssue = fmt.Sprintf("expires on %s, within the renewal window of %s", kept.expiresOn.UTC().Format("2006-01-02"), renewBefore)
		case p.inKey == "":
			st.certIssue = "its private key is not available (it is read back from the TLS Secret of the regions); a new certificate and key are issued"
		case !matched:
			st.certIssue = "the private key read back from the TLS Secret belongs to none of the live certificates; a new certificate and key are issued"
		}
	}
	if in == nil {
		return
	}
	if st.certIssue != "" {
		for _, k := range []string{provider.OutOriginCert, provider.OutOriginKey} {
			in.Set(k, plan.Unknown{From: k, Changes: true})
		}
		return
	}
	// The certificate and key reach the Secrets as one pair, whichever
	// region's Secret the key was read from.
	in.Set(provider.OutOriginCert, plan.NewSensitive(st.cert.pem))
}
