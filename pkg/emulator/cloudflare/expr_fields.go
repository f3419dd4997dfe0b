package cfemu

import (
	"fmt"
	"strings"
)

// exprField is one field of the Rules language and the lowest plan whose
// zones may use it (empty: every plan).
type exprField struct {
	typ     exprType
	minPlan string
}

// exprFields are the request fields of the Rules language reference, with
// the plan each needs. Fields that come with an Enterprise add-on (Bot
// Management, the body fields, API Shield's JWT claims, content scanning)
// are treated as Enterprise.
var exprFields = map[string]exprField{
	"http.host":                             {tBytes, ""},
	"http.cookie":                           {tBytes, ""},
	"http.referer":                          {tBytes, ""},
	"http.user_agent":                       {tBytes, ""},
	"http.x_forwarded_for":                  {tBytes, ""},
	"http.request.method":                   {tBytes, ""},
	"http.request.version":                  {tBytes, ""},
	"http.request.full_uri":                 {tBytes, ""},
	"http.request.uri":                      {tBytes, ""},
	"http.request.uri.path":                 {tBytes, ""},
	"http.request.uri.path.extension":       {tBytes, ""},
	"http.request.uri.query":                {tBytes, ""},
	"http.request.uri.args":                 {tMapArrayBytes, ""},
	"http.request.uri.args.names":           {tArrayBytes, ""},
	"http.request.uri.args.values":          {tArrayBytes, ""},
	"http.request.headers":                  {tMapArrayBytes, ""},
	"http.request.headers.names":            {tArrayBytes, ""},
	"http.request.headers.values":           {tArrayBytes, ""},
	"http.request.headers.truncated":        {tBool, ""},
	"http.request.cookies":                  {tMapArrayBytes, ""},
	"http.request.accepted_languages":       {tArrayBytes, ""},
	"http.request.timestamp.sec":            {tInt, ""},
	"http.request.timestamp.msec":           {tInt, ""},
	"raw.http.request.full_uri":             {tBytes, ""},
	"raw.http.request.uri":                  {tBytes, ""},
	"raw.http.request.uri.path":             {tBytes, ""},
	"raw.http.request.uri.query":            {tBytes, ""},
	"ip.src":                                {tIP, ""},
	"ip.src.asnum":                          {tInt, ""},
	"ip.src.country":                        {tBytes, ""},
	"ip.src.continent":                      {tBytes, ""},
	"ip.src.city":                           {tBytes, ""},
	"ip.src.region":                         {tBytes, ""},
	"ip.src.region_code":                    {tBytes, ""},
	"ip.src.postal_code":                    {tBytes, ""},
	"ip.src.metro_code":                     {tBytes, ""},
	"ip.src.lat":                            {tBytes, ""},
	"ip.src.lon":                            {tBytes, ""},
	"ip.src.timezone.name":                  {tBytes, ""},
	"ip.src.is_in_european_union":           {tBool, ""},
	"ip.src.subdivision_1_iso_code":         {tBytes, ""},
	"ip.src.subdivision_2_iso_code":         {tBytes, ""},
	"ip.geoip.country":                      {tBytes, ""},
	"ip.geoip.continent":                    {tBytes, ""},
	"ip.geoip.asnum":                        {tInt, ""},
	"ssl":                                   {tBool, ""},
	"cf.colo.id":                            {tInt, ""},
	"cf.edge.server_ip":                     {tIP, ""},
	"cf.edge.server_port":                   {tInt, ""},
	"cf.client.bot":                         {tBool, ""},
	"cf.verified_bot_category":              {tBytes, ""},
	"cf.threat_score":                       {tInt, ""},
	"cf.tls_version":                        {tBytes, ""},
	"cf.tls_cipher":                         {tBytes, ""},
	"cf.ray_id":                             {tBytes, ""},
	"cf.zone.name":                          {tBytes, ""},
	"cf.zone.plan":                          {tBytes, ""},
	"cf.random_seed":                        {tBytes, ""},
	"cf.unique_visitor_id":                  {tBytes, ""},
	"cf.waf.credential_check.saw_leaked":    {tBool, Pro},
	"cf.waf.score.class":                    {tBytes, Business},
	"cf.waf.score":                          {tInt, Enterprise},
	"cf.waf.score.sqli":                     {tInt, Enterprise},
	"cf.waf.score.xss":                      {tInt, Enterprise},
	"cf.waf.score.rce":                      {tInt, Enterprise},
	"cf.waf.content_scan.has_malicious_obj": {tBool, Enterprise},
	"cf.bot_management.score":               {tInt, Enterprise},
	"cf.bot_management.verified_bot":        {tBool, Enterprise},
	"cf.bot_management.static_resource":     {tBool, Enterprise},
	"cf.bot_management.ja3_hash":            {tBytes, Enterprise},
	"cf.bot_management.ja4":                 {tBytes, Enterprise},
	"cf.bot_management.js_detection.passed": {tBool, Enterprise},
	"http.request.body.raw":                 {tBytes, Enterprise},
	"http.request.body.size":                {tInt, Enterprise},
	"http.request.body.truncated":           {tBool, Enterprise},
	"http.request.body.mime":                {tBytes, Enterprise},
	"http.request.body.form":                {tMapArrayBytes, Enterprise},
	"http.request.body.form.names":          {tArrayBytes, Enterprise},
	"http.request.body.form.values":         {tArrayBytes, Enterprise},
	"http.request.jwt.claims":               {tMapArrayBytes, Enterprise},
	// Response fields: only in a rate limit's counting expression.
	"http.response.code":    {tInt, ""},
	"http.response.headers": {tMapArrayBytes, ""},
}

// responseFields may appear only where a response exists: the counting
// expression of a rate-limiting rule.
var responseFields = map[string]bool{"http.response.code": true, "http.response.headers": true}

// exprFunctions type-check their arguments and return the result type.
var exprFunctions = map[string]func(args []exprType) (exprType, error){
	"lower":        unaryBytes,
	"upper":        unaryBytes,
	"url_decode":   func(a []exprType) (exprType, error) { return bytesThenLiterals(a, 1, 2) },
	"remove_bytes": func(a []exprType) (exprType, error) { return bytesThenLiterals(a, 2, 2) },
	"lookup_json_string": func(a []exprType) (exprType, error) {
		if len(a) < 2 || a[0] != tBytes {
			return 0, fmt.Errorf("needs a Bytes field and at least one key")
		}
		return tBytes, nil
	},
	"starts_with": func(a []exprType) (exprType, error) { return boolOfBytes(a) },
	"ends_with":   func(a []exprType) (exprType, error) { return boolOfBytes(a) },
	"len": func(a []exprType) (exprType, error) {
		if len(a) != 1 || (a[0] != tBytes && a[0] != tArrayBytes) {
			return 0, fmt.Errorf("needs one Bytes or Array argument")
		}
		return tInt, nil
	},
	"any": anyAll,
	"all": anyAll,
	"concat": func(a []exprType) (exprType, error) {
		if len(a) < 2 {
			return 0, fmt.Errorf("needs at least two arguments")
		}
		for _, t := range a {
			if t != tBytes && t != tArrayBytes {
				return 0, fmt.Errorf("concatenates Bytes or Arrays, found %s", t)
			}
		}
		return a[0], nil
	},
	"to_string": func(a []exprType) (exprType, error) {
		if len(a) != 1 || (a[0] != tInt && a[0] != tBool && a[0] != tIP) {
			return 0, fmt.Errorf("needs one Int, Bool or IP argument")
		}
		return tBytes, nil
	},
}

func unaryBytes(a []exprType) (exprType, error) {
	if len(a) != 1 || a[0] != tBytes {
		return 0, fmt.Errorf("needs one Bytes argument")
	}
	return tBytes, nil
}

func bytesThenLiterals(a []exprType, min, max int) (exprType, error) {
	if len(a) < min || len(a) > max || a[0] != tBytes {
		return 0, fmt.Errorf("needs a Bytes field and up to %d literal arguments", max-1)
	}
	return tBytes, nil
}

func boolOfBytes(a []exprType) (exprType, error) {
	if len(a) != 2 || a[0] != tBytes || a[1] != tBytes {
		return 0, fmt.Errorf("needs a Bytes field and a string literal")
	}
	return tBool, nil
}

func anyAll(a []exprType) (exprType, error) {
	if len(a) != 1 || (a[0] != tBool && a[0] != tArrayBool) {
		return 0, fmt.Errorf("needs one Array<Bool> argument (a comparison over [*])")
	}
	return tBool, nil
}

var planRank = map[string]int{Free: 0, Pro: 1, Business: 2, Enterprise: 3}

func planAllows(plan, min string) bool { return min == "" || planRank[plan] >= planRank[min] }

// rateLimitFields are the fields a rate-limiting rule's matching expression
// may use below Enterprise (Advanced Rate Limiting allows every field).
var rateLimitFields = map[string][]string{
	Free:     {"http.request.uri.path", "cf.client.bot"},
	Pro:      {"http.host", "http.request.uri", "http.request.uri.path", "http.request.full_uri", "http.request.uri.query", "cf.client.bot"},
	Business: {"http.host", "http.request.uri", "http.request.uri.path", "http.request.full_uri", "http.request.uri.query", "http.request.method", "ip.src", "http.user_agent", "cf.client.bot"},
}

// rateLimitCharacteristics are the counting characteristics per plan besides
// the mandatory cf.colo.id; Enterprise also accepts headers, cookies, query
// arguments and the other request fields.
var rateLimitCharacteristics = map[string][]string{
	Free:     {"ip.src"},
	Pro:      {"ip.src"},
	Business: {"ip.src", "cf.unique_visitor_id"},
}

// enterpriseCharacteristic reports whether c is a characteristic Advanced
// Rate Limiting accepts (a known field, or a header/cookie/argument lookup).
func enterpriseCharacteristic(c string) bool {
	for _, prefix := range []string{"http.request.headers[", "http.request.cookies[", "http.request.uri.args[", "lookup_json_string("} {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	f, ok := exprFields[c]
	return ok && !responseFields[c] && f.typ != tMapArrayBytes
}

// checkExprPlan refuses fields the zone's plan does not include.
func checkExprPlan(plan string, e *parsedExpr) []string {
	var out []string
	for _, f := range e.fields {
		if min := exprFields[f].minPlan; !planAllows(plan, min) {
			out = append(out, fmt.Sprintf("not entitled: the field %s requires the %s plan or higher; the zone is on %s", f, min, plan))
		}
		if responseFields[f] {
			out = append(out, fmt.Sprintf("the field %s is only available in a rate limiting rule's counting expression", f))
		}
	}
	return out
}
