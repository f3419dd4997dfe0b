package cfemu

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Record is a DNS record as the API shows it.
type Record struct {
	ID         string   `json:"id"`
	ZoneID     string   `json:"zone_id"`
	ZoneName   string   `json:"zone_name"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Content    string   `json:"content"`
	Proxied    bool     `json:"proxied"`
	Proxiable  bool     `json:"proxiable"`
	TTL        int      `json:"ttl"`
	Comment    string   `json:"comment,omitempty"`
	Tags       []string `json:"tags"`
	CreatedOn  string   `json:"created_on"`
	ModifiedOn string   `json:"modified_on"`
}

type record = Record

// recordBody is a create/update request; pointers tell PATCH what was sent.
type recordBody struct {
	Name    *string   `json:"name"`
	Type    *string   `json:"type"`
	Content *string   `json:"content"`
	Proxied *bool     `json:"proxied"`
	TTL     *int      `json:"ttl"`
	Comment *string   `json:"comment"`
	Tags    *[]string `json:"tags"`
}

// Free zones created after 2024-09-01 hold at most this many records.
const freeRecordQuota = 200

// Records returns copies of a zone's DNS records.
func (s *Server) Records(zoneName string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.zoneByName(zoneName).records)
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	q := r.URL.Query()
	var out []Record
	for _, rec := range z.records {
		if v := q.Get("name"); v != "" && !strings.EqualFold(v, rec.Name) {
			continue
		}
		if v := q.Get("name.exact"); v != "" && !strings.EqualFold(v, rec.Name) {
			continue
		}
		if v := q.Get("type"); v != "" && v != rec.Type {
			continue
		}
		if v := q.Get("comment.exact"); v != "" && !strings.EqualFold(v, rec.Comment) {
			continue
		}
		if v := q.Get("comment.startswith"); v != "" && !strings.HasPrefix(strings.ToLower(rec.Comment), strings.ToLower(v)) {
			continue
		}
		if v := q.Get("comment.contains"); v != "" && !strings.Contains(strings.ToLower(rec.Comment), strings.ToLower(v)) {
			continue
		}
		out = append(out, *rec)
	}
	writeList(w, r, out, 100, 5000000)
}

func (s *Server) recordOf(w http.ResponseWriter, r *http.Request) (*zone, int) {
	z := s.zone(w, r)
	if z == nil {
		return nil, -1
	}
	i := slices.IndexFunc(z.records, func(rec *record) bool { return rec.ID == r.PathValue("id") })
	if i < 0 {
		writeErr(w, http.StatusNotFound, 81044, "Record does not exist.")
		return nil, -1
	}
	return z, i
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z, i := s.recordOf(w, r); z != nil {
		writeOK(w, z.records[i])
	}
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) {
	var b recordBody
	if !decode(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	if z.Plan == Free && len(z.records) >= freeRecordQuota {
		writeErr(w, http.StatusBadRequest, 81045, fmt.Sprintf("Record quota exceeded: a Free zone holds at most %d DNS records.", freeRecordQuota))
		return
	}
	rec := &record{ID: s.nextID(), ZoneID: z.ID, ZoneName: z.Name, TTL: 1, Tags: []string{}, CreatedOn: s.stamp()}
	if b.Name == nil || b.Type == nil || b.Content == nil {
		writeErrs(w, []apiError{{9000, "DNS record requires name, type and content"}})
		return
	}
	applyRecord(rec, b)
	if errs := s.validateRecord(z, rec, ""); len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	rec.ModifiedOn = rec.CreatedOn
	z.records = append(z.records, rec)
	writeOK(w, rec)
}

func (s *Server) updateRecord(w http.ResponseWriter, r *http.Request) {
	var b recordBody
	if !decode(w, r, &b) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z, i := s.recordOf(w, r)
	if z == nil {
		return
	}
	next := *z.records[i]
	if r.Method == http.MethodPut {
		// PUT overwrites: unspecified optional fields return to defaults.
		next.Proxied, next.TTL, next.Comment, next.Tags = false, 1, "", []string{}
	}
	applyRecord(&next, b)
	if errs := s.validateRecord(z, &next, next.ID); len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	next.ModifiedOn = s.stamp()
	*z.records[i] = next
	writeOK(w, &next)
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, i := s.recordOf(w, r)
	if z == nil {
		return
	}
	id := z.records[i].ID
	z.records = slices.Delete(z.records, i, i+1)
	writeOK(w, map[string]string{"id": id})
}

func applyRecord(rec *record, b recordBody) {
	if b.Name != nil {
		rec.Name = strings.ToLower(strings.TrimSuffix(*b.Name, "."))
	}
	if b.Type != nil {
		rec.Type = *b.Type
	}
	if b.Content != nil {
		rec.Content = strings.TrimSuffix(*b.Content, ".")
	}
	if b.Proxied != nil {
		rec.Proxied = *b.Proxied
	}
	if b.TTL != nil {
		rec.TTL = *b.TTL
	}
	if b.Comment != nil {
		rec.Comment = *b.Comment
	}
	if b.Tags != nil {
		rec.Tags = *b.Tags
	}
}

// validateRecord checks one record against the zone, as the service does.
// self is the id of the record being replaced, if any.
func (s *Server) validateRecord(z *zone, rec *record, self string) []apiError {
	var errs []apiError
	if rec.Name == "@" || rec.Name == "" {
		rec.Name = z.Name
	} else if rec.Name != z.Name && !strings.HasSuffix(rec.Name, "."+z.Name) {
		rec.Name += "." + z.Name
	}
	rec.Proxiable = slices.Contains([]string{"A", "AAAA", "CNAME"}, rec.Type)
	switch rec.Type {
	case "A", "AAAA":
		a, err := netip.ParseAddr(rec.Content)
		if err != nil || a.Is4() != (rec.Type == "A") {
			errs = append(errs, apiError{9005, fmt.Sprintf("Content for %s record is invalid. Must be a valid IPv%s address.", rec.Type, map[bool]string{true: "4", false: "6"}[rec.Type == "A"])})
		}
	case "CNAME":
		if !strings.Contains(rec.Content, ".") {
			errs = append(errs, apiError{9007, "Content for CNAME record is invalid."})
		}
	case "TXT", "MX", "NS", "CAA", "SRV":
	default:
		errs = append(errs, apiError{9006, "Invalid DNS record type " + rec.Type})
	}
	if rec.Proxied && !rec.Proxiable {
		errs = append(errs, apiError{9004, "This record type cannot be proxied."})
	}
	minTTL := 60
	if z.Plan == Enterprise {
		minTTL = 30
	}
	if rec.TTL != 1 && (rec.TTL < minTTL || rec.TTL > 86400) {
		errs = append(errs, apiError{9141, fmt.Sprintf("TTL must be 1 (automatic) or between %d and 86400 seconds.", minTTL)})
	}
	maxComment := 100
	if paid(z.Plan) {
		maxComment = 500
	}
	if len(rec.Comment) > maxComment {
		errs = append(errs, apiError{9102, fmt.Sprintf("DNS record comment is too long: %d characters, the %s plan allows %d.", len(rec.Comment), z.Plan, maxComment)})
	}
	if len(rec.Tags) > 0 && !paid(z.Plan) {
		errs = append(errs, apiError{9103, "DNS record tags are only available on paid plans."})
	}
	for _, t := range rec.Tags {
		if !strings.Contains(t, ":") {
			errs = append(errs, apiError{9104, fmt.Sprintf("DNS record tag %q must be name:value.", t)})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for _, o := range z.records {
		if o.ID == self || !strings.EqualFold(o.Name, rec.Name) {
			continue
		}
		switch {
		case o.Type == rec.Type && strings.EqualFold(o.Content, rec.Content):
			return []apiError{{81058, "An identical record already exists."}}
		case o.Type == "CNAME" && rec.Type == "CNAME":
			return []apiError{{81057, "The record already exists."}}
		case o.Type == "CNAME" && (rec.Type == "A" || rec.Type == "AAAA"):
			return []apiError{{81054, "A CNAME record with that host already exists."}}
		case rec.Type == "CNAME" && (o.Type == "A" || o.Type == "AAAA"):
			return []apiError{{81053, "An A, AAAA, or CNAME record with that host already exists."}}
		}
	}
	return nil
}
