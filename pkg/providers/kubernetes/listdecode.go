package kubernetes

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// newDynamicClient is dynamic.NewForConfigAndClient with one change: an
// answer is decoded in one pass (see onePassDecoder). Everything else
// (URLs, headers, auth, the client-side rate limiter, retries, errors) is
// the dynamic client's own.
func newDynamicClient(cfg *rest.Config, hc *http.Client) (dynamic.Interface, error) {
	c := dynamic.ConfigFor(cfg)
	c.GroupVersion = nil
	c.APIPath = "/if-you-see-this-search-for-the-break" // as the dynamic client: it builds absolute paths
	c.NegotiatedSerializer = newOnePassDecoding(c.NegotiatedSerializer)
	rc, err := rest.UnversionedRESTClientForConfigAndClient(c, hc)
	if err != nil {
		return nil, err
	}
	return dynamic.New(rc), nil
}

// onePassDecoding is the dynamic client's serializers with an
// onePassDecoder in front of the JSON one.
type onePassDecoding struct {
	runtime.NegotiatedSerializer
	types []runtime.SerializerInfo
}

func newOnePassDecoding(s runtime.NegotiatedSerializer) onePassDecoding {
	types := append([]runtime.SerializerInfo(nil), s.SupportedMediaTypes()...)
	for i := range types {
		if types[i].MediaType == runtime.ContentTypeJSON {
			types[i].Serializer = onePassDecoder{types[i].Serializer}
		}
	}
	return onePassDecoding{NegotiatedSerializer: s, types: types}
}

func (s onePassDecoding) SupportedMediaTypes() []runtime.SerializerInfo { return s.types }

// onePassDecoder decodes a JSON answer into an UnstructuredList (a LIST)
// or an Unstructured (a GET, an apply or its dry-run) with a single
// unmarshal of the body. The dynamic client's own path scans a list
// several times: once for its apiVersion and kind, once into the list's
// fields (items included), once more into raw items, then once per item
// (an object: three times); on a plan of many regions that was most of the
// CPU spent after the last answer arrived. Every other decode, and any
// body the single pass does not take as a well-formed object or list,
// goes to the dynamic client's decoder, so that results and errors stay
// exactly its own.
type onePassDecoder struct{ runtime.Serializer }

func (d onePassDecoder) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	decoded := false
	switch x := into.(type) {
	case *unstructured.UnstructuredList:
		decoded = x.Object == nil && x.Items == nil && decodeList(data, x)
	case *unstructured.Unstructured:
		decoded = decodeObject(data, x)
	}
	if !decoded {
		return d.Serializer.Decode(data, gvk, into)
	}
	// As the JSON serializer decoding into an Unstructured: the kind is
	// the object's (or list's) own, and must be there.
	actual := into.GetObjectKind().GroupVersionKind()
	if actual.Kind == "" {
		return nil, &actual, runtime.NewMissingKindErr(string(data))
	}
	return into, &actual, nil
}

// decodeObject unmarshals data once into u, as decodeList does; false,
// with u untouched, unless data is an object.
func decodeObject(data []byte, u *unstructured.Unstructured) bool {
	var obj map[string]any
	if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
		return false
	}
	u.Object = obj
	return true
}

// decodeList unmarshals data once, with apimachinery's own unmarshal
// (sigs.k8s.io/json, case-sensitive, integers as int64), and fills list as the unstructured JSON
// scheme's decodeToList does: the list's fields without items in Object,
// each item as an Unstructured, given the list's apiVersion and its kind
// without "List" when it has neither. It reports false, with list
// untouched, for anything but an object whose items are absent, null or
// an array of objects.
func decodeList(data []byte, list *unstructured.UnstructuredList) bool {
	var obj map[string]any
	if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
		return false
	}
	items, ok := obj["items"].([]any)
	if !ok && obj["items"] != nil {
		return false
	}
	out := make([]unstructured.Unstructured, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return false
		}
		out[i].Object = m
	}
	delete(obj, "items")
	list.Object = obj
	apiVersion, kind := list.GetAPIVersion(), strings.TrimSuffix(list.GetKind(), "List")
	for i := range out {
		if out[i].GetKind() == "" && out[i].GetAPIVersion() == "" {
			out[i].SetKind(kind)
			out[i].SetAPIVersion(apiVersion)
		}
	}
	list.Items = out
	return true
}
