package metrics

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OriginCertificateExpiry is the name of the gauge with the notAfter time
// of the origin certificate the API is served with; the
// origin-certificate-expiring alert watches it.
const OriginCertificateExpiry = Namespace + "_origin_certificate_expiry_timestamp_seconds"

var originCertDesc = prometheus.NewDesc(OriginCertificateExpiry,
	"Expiry (notAfter, Unix seconds) of the origin certificate the API is served with.", nil, nil)

// certificateExpiry reads the certificate file at every scrape, so that a
// renewed certificate (the Secret's volume is updated in place) shows
// without a restart. A file that cannot be read or parsed yields no sample:
// a scrape never fails because of it.
type certificateExpiry struct {
	path string
	// errors counts the scrapes that could not read the certificate.
	errors prometheus.Counter
}

// WatchCertificate exports the expiry of the PEM certificate at path (the
// first CERTIFICATE block: the leaf of a chain).
func (m *Metrics) WatchCertificate(path string) {
	c := &certificateExpiry{path: path, errors: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Name: "origin_certificate_read_errors_total",
		Help: "Scrapes at which the origin certificate file could not be read or parsed.",
	})}
	m.Registry.MustRegister(c, c.errors)
}

func (c *certificateExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- originCertDesc }

func (c *certificateExpiry) Collect(ch chan<- prometheus.Metric) {
	notAfter, err := ReadCertificateExpiry(c.path)
	if err != nil {
		c.errors.Inc()
		return
	}
	ch <- prometheus.MustNewConstMetric(originCertDesc, prometheus.GaugeValue, float64(notAfter.Unix()))
}

// ReadCertificateExpiry returns the notAfter time of the first certificate
// in the PEM file at path.
func ReadCertificateExpiry(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: %w", path, err)
		}
		return cert.NotAfter, nil
	}
	return time.Time{}, errors.New(path + ": no PEM certificate")
}
