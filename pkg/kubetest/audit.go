package kubetest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// AuditEvents returns the requests a region's API server recorded from
// the given line on (0: all) whose user agent starts with agent (""
// matches all), and the number of lines read, to pass next time.
func (e *Env) AuditEvents(region, agent string, from int) ([]AuditEvent, int, error) {
	f, err := os.Open(e.AuditLog(region))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	defer f.Close()
	var out []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		if n <= from {
			continue
		}
		var ev AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue
		}
		if strings.HasPrefix(ev.UserAgent, agent) {
			out = append(out, ev)
		}
	}
	return out, n, sc.Err()
}
