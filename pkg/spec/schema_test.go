package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func yamlDoc(t *testing.T, data []byte) any {
	t.Helper()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(j, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemaAcceptsExamples(t *testing.T) {
	s := compiledSchema(t)
	for _, file := range []string{"../../examples/global.yaml", "../../examples/single-region.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(yamlDoc(t, data)); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

func TestSchemaRejectsUnknownFieldsAndBadEnums(t *testing.T) {
	s := compiledSchema(t)
	for name, src := range map[string]string{
		"unknown field": "apiVersion: nekoctl.dev/v1alpha1\nkind: Stack\nmetadata: {name: a}\nspec: {domain: a.b, bogus: 1, cloudflare: {accountID: x}, atlas: {orgID: x, project: p, cluster: {name: c}}, regions: []}\n",
		"bad enum":      "apiVersion: nekoctl.dev/v1alpha1\nkind: Stack\nmetadata: {name: a}\nspec: {domain: a.b, cloudflare: {accountID: x, plan: gold}, atlas: {orgID: x, project: p, cluster: {name: c}}, regions: []}\n",
	} {
		if err := s.Validate(yamlDoc(t, []byte(src))); err == nil {
			t.Errorf("%s: schema accepted an invalid spec", name)
		}
	}
}
