package kubernetes

import (
	"encoding/json"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// unchanged reports, without asking the API server, that a server-side
// apply of obj by this field manager would change nothing in live. It
// answers true only when that is certain:
//   - every field obj sets holds an equal value in live (lists of the same
//     length, element by element), so nothing would be written; and
//   - every field this manager owns in live (its managedFields entry) is
//     set in obj, so nothing would be removed.
//
// Server defaults and fields of other managers may differ freely: the
// apply would leave them alone. Anything else (a value the server would
// normalise, such as a quantity written "1000m", a list another manager
// extended, an entry written by an older API version) answers false, and
// the caller asks the server with a dry-run.
func unchanged(obj, live *unstructured.Unstructured) bool {
	if obj.GetAPIVersion() != live.GetAPIVersion() || !subset(obj.Object, live.Object) {
		return false
	}
	// The managedFields entries are read as decoded: GetManagedFields
	// would convert every entry by reflection and re-encode its field set
	// as JSON, for this to decode it again.
	entries, _, _ := unstructured.NestedFieldNoCopy(live.Object, "metadata", "managedFields")
	list, _ := entries.([]any)
	for _, e := range list {
		mf, ok := e.(map[string]any)
		if !ok {
			return false
		}
		if mf["manager"] != FieldManager || mf["operation"] != string(metav1.ManagedFieldsOperationApply) || str(mf["subresource"]) != "" {
			continue
		}
		set, ok := mf["fieldsV1"].(map[string]any)
		if mf["apiVersion"] != obj.GetAPIVersion() || !ok {
			return false
		}
		return covers(set, live.Object, obj.Object)
	}
	// Never applied by nekoctl: let the server say what applying would do.
	return false
}

// subset reports whether every field of want is in have with an equal value.
func subset(want, have any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			hv, ok := h[k]
			if !ok || !subset(v, hv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], h[i]) {
				return false
			}
		}
		return true
	}
	return scalarEqual(want, have)
}

func scalarEqual(a, b any) bool {
	if x, ok := plan.Number(a); ok {
		y, ok := plan.Number(b)
		return ok && x == y
	}
	return a == b
}

// covers walks a managedFields set (FieldsV1: "f:name" fields, "k:{...}"
// list entries by key, "v:..." set members, "i:N" positions) over the live
// object, and reports whether every owned path is also present in desired.
// Live and desired lists are aligned (subset checked their lengths), so an
// entry found at index i in live is desired[i].
func covers(set map[string]any, live, desired any) bool {
	for k, child := range set {
		if k == "." {
			continue
		}
		sub, _ := child.(map[string]any)
		prefix, arg, _ := strings.Cut(k, ":")
		var lv, dv any
		switch prefix {
		case "f":
			lm, _ := live.(map[string]any)
			dm, ok := desired.(map[string]any)
			if !ok {
				return false
			}
			if dv, ok = dm[arg]; !ok {
				return false
			}
			lv = lm[arg]
		case "k", "v", "i":
			ll, _ := live.([]any)
			dl, ok := desired.([]any)
			if !ok {
				return false
			}
			i := listIndex(prefix, arg, ll)
			if i < 0 || i >= len(dl) {
				return false
			}
			lv, dv = ll[i], dl[i]
		default:
			return false
		}
		if len(sub) > 0 && !covers(sub, lv, dv) {
			return false
		}
	}
	return true
}

// listIndex finds the live list entry a managedFields path element names.
func listIndex(prefix, arg string, list []any) int {
	switch prefix {
	case "i":
		n, err := strconv.Atoi(arg)
		if err != nil {
			return -1
		}
		return n
	case "v":
		var v any
		if err := json.Unmarshal([]byte(arg), &v); err != nil {
			return -1
		}
		for i, e := range list {
			if scalarEqual(v, e) {
				return i
			}
		}
	case "k":
		var key map[string]any
		if err := json.Unmarshal([]byte(arg), &key); err != nil {
			return -1
		}
		for i, e := range list {
			if subset(key, e) {
				return i
			}
		}
	}
	return -1
}
