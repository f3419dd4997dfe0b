// Package probe asks a region's origin for its health the way Cloudflare's
// monitor does: HTTPS to the region's public address with the API hostname
// as SNI and Host header, reporting the certificate the origin presents and
// its answer.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Request says what to probe.
type Request struct {
	// Address is the region's public address: an IP or a host name.
	Address string
	Port    int
	// Host is the API hostname: the TLS server name and the Host header.
	Host string
	Path string
	// OriginCert, when set, is the PEM certificate nekoctl deployed: the
	// result says whether the origin presents exactly it.
	OriginCert string
	// Timeout bounds the whole probe; DialTimeout the connection (an
	// address that does not answer by then is taken as unreachable from
	// here, not as unhealthy).
	Timeout, DialTimeout time.Duration
}

// Result is what the probe saw.
type Result struct {
	// Skipped explains why nothing was sent (the address is not reachable
	// from where nekoctl runs); the other fields are then empty.
	Skipped string `json:"skipped,omitempty"`
	// Healthy: the origin answered with a 2xx, or refused the handshake
	// only for lack of Cloudflare's client certificate.
	Healthy bool   `json:"healthy"`
	Error   string `json:"error,omitempty"`
	// Status is the HTTP status code of the answer (0 without one).
	Status int `json:"status,omitempty"`
	// ClientCertRequired: the origin demanded a client certificate
	// (Authenticated Origin Pulls): only Cloudflare can ask it.
	ClientCertRequired bool        `json:"client_cert_required,omitempty"`
	Certificate        *CertReport `json:"certificate,omitempty"`
}

// CertReport describes the certificate the origin presented.
type CertReport struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	// OriginCA: issued by Cloudflare's Origin CA (which only Cloudflare's
	// edge trusts under Full (strict)).
	OriginCA bool `json:"origin_ca"`
	// Deployed: exactly the certificate nekoctl deployed (when known).
	Deployed *bool `json:"deployed,omitempty"`
	// CoversHost: valid for the API hostname.
	CoversHost bool `json:"covers_host"`
}

// Summary is one line for status and events.
func (r Result) Summary() string {
	if r.Skipped != "" {
		return "skipped: " + r.Skipped
	}
	var parts []string
	switch {
	case r.Status != 0:
		parts = append(parts, "answered "+strconv.Itoa(r.Status))
	case r.ClientCertRequired:
		parts = append(parts, "requires Cloudflare's client certificate (Authenticated Origin Pulls): only Cloudflare can ask it")
	}
	if r.Error != "" {
		parts = append(parts, r.Error)
	}
	if c := r.Certificate; c != nil {
		s := fmt.Sprintf("certificate issued by %q, expires %s", c.Issuer, c.NotAfter.UTC().Format("2006-01-02"))
		if c.OriginCA {
			s += ", Cloudflare Origin CA"
		} else {
			s += ", not from Cloudflare's Origin CA"
		}
		if c.Deployed != nil && !*c.Deployed {
			s += ", not the certificate nekoctl deployed"
		}
		if !c.CoversHost {
			s += ", not valid for the API hostname"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Run probes once. It never returns an error: every outcome is a Result.
func Run(ctx context.Context, req Request) Result {
	if req.Timeout == 0 {
		req.Timeout = 10 * time.Second
	}
	if req.DialTimeout == 0 {
		req.DialTimeout = 3 * time.Second
	}
	if reason := unreachable(req.Address); reason != "" {
		return Result{Skipped: reason}
	}
	target := net.JoinHostPort(req.Address, strconv.Itoa(req.Port))
	var res Result
	dialer := &net.Dialer{Timeout: req.DialTimeout}
	tr := &http.Transport{
		// Every request goes to the region's address, whatever the URL's
		// host: the URL carries the API hostname for SNI and Host.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, target)
		},
		// The certificate is judged below: Cloudflare's Origin CA is trusted
		// by Cloudflare's edge only, not by this machine.
		TLSClientConfig: &tls.Config{ServerName: req.Host, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12,
			VerifyConnection: func(cs tls.ConnectionState) error {
				res.Certificate = report(cs.PeerCertificates, req)
				return nil
			}},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: req.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	path := req.Path
	if path == "" {
		path = "/health"
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+req.Host+path, nil)
	if err != nil {
		return Result{Error: err.Error()}
	}
	hr.Header.Set("User-Agent", "nekoctl-probe")
	resp, err := client.Do(hr)
	if err != nil {
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" && oe.Timeout() {
			return Result{Skipped: fmt.Sprintf("%s did not answer within %s: not reachable from here", target, req.DialTimeout)}
		}
		return refused(res, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.Healthy = resp.StatusCode >= 200 && resp.StatusCode < 300 && certOK(res.Certificate)
	switch {
	case resp.StatusCode >= 300:
		res.Error = fmt.Sprintf("%s%s answered %s", req.Host, path, resp.Status)
	case !certOK(res.Certificate):
		res.Error = "Cloudflare's edge would refuse this certificate under Full (strict)"
	}
	return res
}

// refused explains a failed handshake or exchange. An origin that asks
// for a client certificate (TLS alert "certificate required" or "bad
// certificate") is doing what Authenticated Origin Pulls wants.
func refused(res Result, err error) Result {
	msg := err.Error()
	if strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") ||
		strings.Contains(msg, "handshake failure") && res.Certificate != nil {
		res.ClientCertRequired = true
		res.Healthy = certOK(res.Certificate)
		return res
	}
	res.Error = msg
	return res
}

func certOK(c *CertReport) bool {
	return c != nil && c.CoversHost && (c.Deployed == nil || *c.Deployed) && time.Now().Before(c.NotAfter)
}

func report(chain []*x509.Certificate, req Request) *CertReport {
	if len(chain) == 0 {
		return nil
	}
	leaf := chain[0]
	c := &CertReport{Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotAfter: leaf.NotAfter,
		OriginCA: IsOriginCA(leaf), CoversHost: leaf.VerifyHostname(req.Host) == nil}
	if req.OriginCert != "" {
		same := sameCert(leaf, req.OriginCert)
		c.Deployed = &same
	}
	return c
}

// IsOriginCA reports whether Cloudflare's Origin CA issued cert: its issuer
// is "CloudFlare, Inc." with "Origin" in the CA's name (the RSA and ECC
// Origin CAs, and the emulator's).
func IsOriginCA(cert *x509.Certificate) bool {
	iss := cert.Issuer
	org := strings.Join(iss.Organization, ",")
	names := iss.CommonName + " " + strings.Join(iss.OrganizationalUnit, " ")
	return strings.EqualFold(org, "CloudFlare, Inc.") && strings.Contains(names, "Origin")
}

// unreachable says why an address cannot be probed from here: private,
// link-local, shared and documentation ranges are only reachable inside
// their networks; reserved example names never resolve.
func unreachable(addr string) string {
	if ip, err := netip.ParseAddr(addr); err == nil {
		if ip.IsLoopback() {
			return ""
		}
		if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || inAny(ip, nonRoutable) {
			return addr + " is not a public address: not reachable from here"
		}
		return ""
	}
	name := strings.TrimSuffix(strings.ToLower(addr), ".")
	for _, suffix := range []string{".example", ".test", ".invalid", ".local", "example.com", "example.net", "example.org"} {
		if name == strings.TrimPrefix(suffix, ".") || strings.HasSuffix(name, suffix) {
			return addr + " is a reserved example name: not reachable"
		}
	}
	return ""
}

var nonRoutable = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("2001:db8::/32"),   // IPv6 documentation
}

func inAny(ip netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// sameCert reports whether leaf is the first certificate of the PEM text.
func sameCert(leaf *x509.Certificate, pemText string) bool {
	b, _ := pem.Decode([]byte(pemText))
	return b != nil && bytes.Equal(b.Bytes, leaf.Raw)
}
