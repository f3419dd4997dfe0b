package atlas_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"sigs.k8s.io/yaml"

	"github.com/neko-defense/nekoctl/pkg/emulator/atlas"
)

// specPath is the Atlas OpenAPI specification kept beside the repository
// (../shared); it is not part of the project, so the test skips without it.
var specPath = filepath.Join("..", "..", "..", "..", "shared", "reference", "openapi", "atlas-api-transformed.yaml")

type schemas map[string]any

func loadSchemas(t *testing.T) schemas {
	t.Helper()
	raw, err := os.ReadFile(specPath)
	if err != nil {
		t.Skipf("Atlas OpenAPI specification not available: %v", err)
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas schemas `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas
}

// resolve follows $ref and merges allOf into one property set.
func (s schemas) resolve(sc map[string]any) map[string]any {
	if ref, ok := sc["$ref"].(string); ok {
		next, _ := s[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		return s.resolve(next)
	}
	all, ok := sc["allOf"].([]any)
	if !ok {
		return sc
	}
	merged := map[string]any{"properties": map[string]any{}}
	for _, part := range all {
		r := s.resolve(part.(map[string]any))
		for k, v := range props(r) {
			merged["properties"].(map[string]any)[k] = v
		}
	}
	return merged
}

func props(sc map[string]any) map[string]any {
	p, _ := sc["properties"].(map[string]any)
	return p
}

// check reports every field of v that the schema does not declare.
func (s schemas) check(sc map[string]any, v any, path string, problems *[]string) {
	sc = s.resolve(sc)
	switch x := v.(type) {
	case map[string]any:
		if _, free := sc["additionalProperties"]; free || props(sc) == nil {
			return
		}
		for k, val := range x {
			p, ok := props(sc)[k].(map[string]any)
			if !ok {
				*problems = append(*problems, path+"."+k)
				continue
			}
			s.check(p, val, path+"."+k, problems)
		}
	case []any:
		items, _ := sc["items"].(map[string]any)
		for _, it := range x {
			if items != nil {
				s.check(items, it, path+"[]", problems)
			}
		}
	}
}

// TestResponsesMatchOpenAPI checks that every field the emulator answers
// with is declared by the Atlas specification's schema for that operation.
func TestResponsesMatchOpenAPI(t *testing.T) {
	sch := loadSchemas(t)
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	g, _, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "p", OrgId: atlas.DefaultOrgID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	gid := g.GetId()
	if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, threeRegions)).Execute(); err != nil {
		t.Fatal(err)
	}
	user := &admin.CloudDatabaseUser{GroupId: gid, DatabaseName: "admin", Username: "u", Password: admin.PtrString("password123"),
		Roles: []admin.DatabaseUserRole{{RoleName: "readWrite", DatabaseName: "db"}}}
	if _, _, err := c.DatabaseUsersApi.CreateDatabaseUser(ctx, gid, user).Execute(); err != nil {
		t.Fatal(err)
	}
	entries := []admin.NetworkPermissionEntry{{CidrBlock: admin.PtrString("10.0.0.0/8")}}
	if _, _, err := c.ProjectIPAccessListApi.CreateAccessListEntry(ctx, gid, &entries).Execute(); err != nil {
		t.Fatal(err)
	}
	alert, _, err := c.AlertConfigurationsApi.CreateAlertConfig(ctx, gid, lagAlert()).Execute()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: digest.NewTransport(atlas.DefaultPublicKey, atlas.DefaultPrivateKey)}
	for _, tc := range []struct{ path, schema string }{
		{"/groups/" + gid, "Group"},
		{"/groups/byName/p", "Group"},
		{"/groups/" + gid + "/clusters/neko", "ClusterDescription20240805"},
		{"/groups/" + gid + "/clusters", "PaginatedClusterDescription20240805"},
		{"/groups/" + gid + "/clusters/neko/status", "ClusterStatus"},
		{"/groups/" + gid + "/clusters/neko/backup/schedule", "DiskBackupSnapshotSchedule20240805"},
		{"/groups/" + gid + "/clusters/provider/regions?providers=AWS&tier=M10", "PaginatedApiAtlasProviderRegions"},
		{"/groups/" + gid + "/databaseUsers/admin/u", "CloudDatabaseUser"},
		{"/groups/" + gid + "/databaseUsers", "PaginatedApiAtlasDatabaseUser"},
		{"/groups/" + gid + "/accessList", "PaginatedNetworkAccess"},
		{"/groups/" + gid + "/accessList/10.0.0.0%2F8", "NetworkPermissionEntry"},
		{"/groups/" + gid + "/clusters/neko/backup/snapshots", "PaginatedCloudBackupReplicaSet"},
		{"/groups/" + gid + "/clusters/neko/backup/restoreJobs", "PaginatedCloudBackupRestoreJob"},
		{"/groups/" + gid + "/alertConfigs", "PaginatedAlertConfig"},
		{"/groups/" + gid + "/alertConfigs/" + alert.GetId(), "GroupAlertsConfig"},
		{"/groups/" + gid + "/clusters/missing", "ApiError"},
	} {
		t.Run(tc.schema+tc.path[strings.LastIndex(tc.path, "/"):], func(t *testing.T) {
			sc, ok := sch[tc.schema].(map[string]any)
			if !ok {
				t.Fatalf("no schema %s", tc.schema)
			}
			resp, err := hc.Get(s.URL() + atlas.APIPrefix + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
			}
			var problems []string
			sch.check(sc, v, tc.schema, &problems)
			sort.Strings(problems)
			if len(problems) > 0 {
				t.Errorf("fields not in the specification: %v", problems)
			}
		})
	}
}
