package kubetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
)

// auditPolicy records the metadata of every request once, when its
// response is complete.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
- level: Metadata
`

// AuditLog is the path of a region's audit log (Options.Audit).
func (e *Env) AuditLog(region string) string {
	return filepath.Join(e.dir, "audit-"+region+".log")
}

// AuditEvent is what the API server recorded of one request.
type AuditEvent struct {
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
}

// Write reports a request that changes state: not a read, not a dry-run.
func (a AuditEvent) Write() bool {
	switch a.Verb {
	case "get", "list", "watch":
		return false
	}
	return !strings.Contains(a.RequestURI, "dryRun=")
}

// flushAgent is the user agent of the requests that flush the audit log.
const flushAgent = "kubetest-audit-flush/"

var flushes atomic.Int64

// AuditEvents returns the requests a region's API server recorded from
// the given line on (0: all) whose user agent starts with agent (""
// matches all), and the number of lines read, to pass next time. Every
// request answered before the call is among them: the API server writes
// its log apart from the requests (so that writing it does not slow them
// down), so the call first sends a request of its own and waits for the
// log to hold it.
func (e *Env) AuditEvents(region, agent string, from int) ([]AuditEvent, int, error) {
	marker, err := e.sendFlush(region)
	if err != nil {
		return nil, 0, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, n, found, err := e.readAudit(region, agent, from, marker)
		if err != nil || found {
			return out, n, err
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("kubetest: the audit log of %s does not show request %s after 10 s", region, marker)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sendFlush sends a GET /version under a user agent of its own, which the
// audit log records after every request answered before it.
func (e *Env) sendFlush(region string) (string, error) {
	s, ok := e.servers[region]
	if !ok {
		return "", fmt.Errorf("kubetest: no region %q", region)
	}
	marker := flushAgent + strconv.FormatInt(flushes.Add(1), 10)
	cfg := rest.CopyConfig(s.cfg)
	cfg.UserAgent = marker
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return "", err
	}
	resp, err := hc.Get(s.url + "/version")
	if err != nil {
		return "", fmt.Errorf("kubetest: flushing the audit log of %s: %w", region, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	hc.CloseIdleConnections()
	return marker, nil
}

// readAudit reads the complete lines of a region's audit log from line
// from on, and reports whether the flush request marker is among them.
func (e *Env) readAudit(region, agent string, from int, marker string) (out []AuditEvent, n int, found bool, err error) {
	f, err := os.Open(e.AuditLog(region))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, false, nil
		}
		return nil, 0, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err == io.EOF {
			return out, n, found, nil // a line still being written is read next time
		}
		if err != nil {
			return nil, 0, false, err
		}
		n++
		if n <= from {
			continue
		}
		var ev AuditEvent
		if json.Unmarshal(line, &ev) != nil {
			continue
		}
		switch {
		case ev.UserAgent == marker:
			found = true
		case strings.HasPrefix(ev.UserAgent, flushAgent):
		case strings.HasPrefix(ev.UserAgent, agent):
			out = append(out, ev)
		}
	}
}
