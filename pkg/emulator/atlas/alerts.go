package atlas

import (
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"
)

// Alert configurations (/groups/{groupId}/alertConfigs). The event types
// and metric names the emulator accepts are those confirmed in Atlas's
// alert documentation for what nekoctl configures; anything else is
// refused, so a typo cannot pass here and fail against Atlas.

// AlertMatcher narrows an alert configuration to some targets.
type AlertMatcher struct {
	FieldName string `json:"fieldName"`
	Operator  string `json:"operator"`
	Value     string `json:"value"`
}

// MetricThreshold triggers an OUTSIDE_METRIC_THRESHOLD alert.
type MetricThreshold struct {
	MetricName string   `json:"metricName"`
	Mode       string   `json:"mode,omitempty"`
	Operator   string   `json:"operator"`
	Threshold  *float64 `json:"threshold"`
	Units      string   `json:"units"`
}

// AlertNotification is one target of an alert configuration.
type AlertNotification struct {
	TypeName     string   `json:"typeName"`
	EmailAddress string   `json:"emailAddress,omitempty"`
	EmailEnabled *bool    `json:"emailEnabled,omitempty"`
	SmsEnabled   *bool    `json:"smsEnabled,omitempty"`
	Roles        []string `json:"roles,omitempty"`
	DelayMin     *int     `json:"delayMin,omitempty"`
	IntervalMin  *int     `json:"intervalMin,omitempty"`
}

// AlertConfig is the GroupAlertsConfig document.
type AlertConfig struct {
	ID              string              `json:"id,omitempty"`
	GroupID         string              `json:"groupId,omitempty"`
	Created         string              `json:"created,omitempty"`
	Updated         string              `json:"updated,omitempty"`
	Enabled         *bool               `json:"enabled,omitempty"`
	EventTypeName   string              `json:"eventTypeName"`
	Matchers        []AlertMatcher      `json:"matchers"`
	Notifications   []AlertNotification `json:"notifications"`
	MetricThreshold *MetricThreshold    `json:"metricThreshold,omitempty"`
	Links           []any               `json:"links"`
}

// alertEventTypes are the confirmed event types; true when the type takes
// a metric threshold.
var alertEventTypes = map[string]bool{
	"PRIMARY_ELECTED":                      false,
	"NO_PRIMARY":                           false,
	"REPLICATION_OPLOG_WINDOW_RUNNING_OUT": false,
	"OUTSIDE_METRIC_THRESHOLD":             true,
}

// alertMetrics are the confirmed metric names with the units each takes.
var alertMetrics = map[string][]string{
	"OPLOG_SLAVE_LAG_MASTER_TIME":     {"MILLISECONDS", "SECONDS", "MINUTES", "HOURS"},
	"DISK_PARTITION_SPACE_USED_DATA":  {"RAW"},
	"DISK_PARTITION_SPACE_USED_INDEX": {"RAW"},
	"NORMALIZED_SYSTEM_CPU_USER":      {"RAW"},
	"CONNECTIONS_PERCENT":             {"RAW"},
}

var (
	matcherFields    = []string{"CLUSTER_NAME", "REPLICA_SET_NAME", "SHARD_NAME", "HOSTNAME", "PORT", "HOSTNAME_AND_PORT", "TYPE_NAME"}
	matcherOperators = []string{"EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "STARTS_WITH", "ENDS_WITH", "REGEX"}
	notificationType = []string{"EMAIL", "GROUP", "ORG", "USER", "SMS", "TEAM"}
	groupRoles       = []string{"GROUP_OWNER", "GROUP_CLUSTER_MANAGER", "GROUP_DATA_ACCESS_ADMIN", "GROUP_DATA_ACCESS_READ_WRITE",
		"GROUP_DATA_ACCESS_READ_ONLY", "GROUP_READ_ONLY", "GROUP_SEARCH_INDEX_EDITOR", "GROUP_STREAM_PROCESSING_OWNER"}
)

// AlertConfigs returns copies of a project's alert configurations.
func (s *Server) AlertConfigs(groupID string) []AlertConfig {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[groupID]
	if p == nil {
		return nil
	}
	out := make([]AlertConfig, 0, len(p.alerts))
	for _, a := range p.alerts {
		out = append(out, *a)
	}
	return out
}

func (s *Server) listAlertConfigs(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	out := make([]AlertConfig, 0, len(p.alerts))
	for _, a := range p.alerts {
		out = append(out, *a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created < out[j].Created })
	return http.StatusOK, paginated(out)
}

func (s *Server) alertConfig(r *http.Request) (*project, int, int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return nil, -1, st, body
	}
	id := r.PathValue("alertConfigId")
	i := slices.IndexFunc(p.alerts, func(a *AlertConfig) bool { return a.ID == id })
	if i < 0 {
		st, body := notFound("ALERT_CONFIG_NOT_FOUND", fmt.Sprintf("No alert configuration with ID %s exists in group %s.", id, p.ID), id, p.ID)
		return nil, -1, st, body
	}
	return p, i, 0, nil
}

func (s *Server) getAlertConfig(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, i, st, body := s.alertConfig(r)
	if p == nil {
		return st, body
	}
	return http.StatusOK, p.alerts[i]
}

// decodeAlertConfig reads and validates a request's alert configuration;
// nil with the error answer when it is not valid.
func decodeAlertConfig(r *http.Request) (*AlertConfig, int, any) {
	var req AlertConfig
	if err := decode(r, &req); err != nil {
		st, body := invalidJSON(err)
		return nil, st, body
	}
	if st, body := checkAlertConfig(&req); st != 0 {
		return nil, st, body
	}
	return &req, 0, nil
}

func (s *Server) createAlertConfig(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	req, st, body := decodeAlertConfig(r)
	if req == nil {
		return st, body
	}
	now := s.now().UTC().Format(time.RFC3339)
	req.ID, req.GroupID, req.Created, req.Updated, req.Links = s.newID()[:24], p.ID, now, now, []any{}
	p.alerts = append(p.alerts, req)
	return http.StatusOK, req
}

func (s *Server) updateAlertConfig(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, i, st, body := s.alertConfig(r)
	if p == nil {
		return st, body
	}
	req, st, body := decodeAlertConfig(r)
	if req == nil {
		return st, body
	}
	cur := p.alerts[i]
	req.ID, req.GroupID, req.Created, req.Links = cur.ID, cur.GroupID, cur.Created, []any{}
	req.Updated = s.now().UTC().Format(time.RFC3339)
	*cur = *req
	return http.StatusOK, req
}

func (s *Server) deleteAlertConfig(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, i, st, body := s.alertConfig(r)
	if p == nil {
		return st, body
	}
	p.alerts = slices.Delete(p.alerts, i, i+1)
	return http.StatusNoContent, nil
}

// checkAlertConfig validates a request as Atlas does; 0 when valid.
func checkAlertConfig(a *AlertConfig) (int, any) {
	takesMetric, ok := alertEventTypes[a.EventTypeName]
	if !ok {
		return badRequest("INVALID_EVENT_TYPE_FOR_ALERT", fmt.Sprintf("Event type %q is not valid for an alert configuration.", a.EventTypeName), a.EventTypeName)
	}
	if a.Enabled == nil {
		f := false
		a.Enabled = &f // the documented default
	}
	if takesMetric {
		if st, body := checkThreshold(a.MetricThreshold); st != 0 {
			return st, body
		}
	} else if a.MetricThreshold != nil {
		return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Event type %s takes no metricThreshold.", a.EventTypeName), "metricThreshold")
	}
	if a.Matchers == nil {
		a.Matchers = []AlertMatcher{}
	}
	for _, m := range a.Matchers {
		if !slices.Contains(matcherFields, m.FieldName) || !slices.Contains(matcherOperators, m.Operator) || m.Value == "" {
			return badRequest("INVALID_MATCHER", fmt.Sprintf("Matcher %s %s %q is not valid.", m.FieldName, m.Operator, m.Value), m.FieldName)
		}
	}
	if n := len(a.Notifications); n < 1 || n > 25 {
		return badRequest("INVALID_ATTRIBUTE", "An alert configuration needs between 1 and 25 notifications.", "notifications")
	}
	for _, n := range a.Notifications {
		if st, body := checkNotification(n); st != 0 {
			return st, body
		}
	}
	return 0, nil
}

func checkThreshold(t *MetricThreshold) (int, any) {
	if t == nil {
		return badRequest("MISSING_ATTRIBUTE", "Event type OUTSIDE_METRIC_THRESHOLD needs a metricThreshold.", "metricThreshold")
	}
	units, ok := alertMetrics[t.MetricName]
	switch {
	case !ok:
		return badRequest("INVALID_METRIC_NAME", fmt.Sprintf("Metric %q is not valid for an alert configuration.", t.MetricName), t.MetricName)
	case t.Operator != "GREATER_THAN" && t.Operator != "LESS_THAN":
		return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Operator %q is not GREATER_THAN or LESS_THAN.", t.Operator), "metricThreshold.operator")
	case t.Threshold == nil:
		return badRequest("MISSING_ATTRIBUTE", "metricThreshold.threshold is required.", "metricThreshold.threshold")
	case !slices.Contains(units, t.Units):
		return badRequest("INVALID_METRIC_UNITS", fmt.Sprintf("Units %q are not valid for metric %s (%s).", t.Units, t.MetricName, strings.Join(units, ", ")), t.Units)
	case t.Mode != "" && t.Mode != "AVERAGE":
		return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Mode %q is not AVERAGE.", t.Mode), "metricThreshold.mode")
	}
	return 0, nil
}

func checkNotification(n AlertNotification) (int, any) {
	if !slices.Contains(notificationType, n.TypeName) {
		return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Notification type %q is not supported.", n.TypeName), "notifications.typeName")
	}
	if n.IntervalMin != nil && *n.IntervalMin < 5 {
		return badRequest("INVALID_ATTRIBUTE", "intervalMin must be at least 5.", "notifications.intervalMin")
	}
	if n.DelayMin != nil && *n.DelayMin < 0 {
		return badRequest("INVALID_ATTRIBUTE", "delayMin must not be negative.", "notifications.delayMin")
	}
	switch n.TypeName {
	case "EMAIL":
		if _, err := mail.ParseAddress(n.EmailAddress); err != nil {
			return badRequest("INVALID_EMAIL_ADDRESS", fmt.Sprintf("%q is not a valid email address.", n.EmailAddress), n.EmailAddress)
		}
	case "GROUP", "ORG":
		if (n.EmailEnabled == nil || !*n.EmailEnabled) && (n.SmsEnabled == nil || !*n.SmsEnabled) {
			return badRequest("INVALID_ATTRIBUTE", "A group or organization notification needs emailEnabled or smsEnabled.", "notifications")
		}
		for _, role := range n.Roles {
			if n.TypeName == "GROUP" && !slices.Contains(groupRoles, role) {
				return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Role %q is not a project role.", role), "notifications.roles")
			}
		}
	}
	return 0, nil
}
