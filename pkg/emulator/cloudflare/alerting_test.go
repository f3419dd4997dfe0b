package cfemu

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/alerting"
	"github.com/cloudflare/cloudflare-go/v7/option"
)

// The SDK's typed alerting service round-trips a pool-health policy through
// the emulator: create answers the id, list and get carry the whole
// policy, update replaces it, delete removes it.
func TestPolicyThroughTheSDK(t *testing.T) {
	s := New(t)
	pool := call(t, s, "POST", "/accounts/"+DefaultAccount+"/load_balancers/pools", map[string]any{
		"name": "p1", "origins": []map[string]any{{"name": "o", "address": "192.0.2.1", "enabled": true}},
	})
	if !pool.Success {
		t.Fatalf("creating a pool: %s", pool.messages())
	}
	poolID := pool.id(t)
	c := cf.NewClient(option.WithBaseURL(s.URL()+"/"), option.WithAPIToken(s.Token()))
	ctx := context.Background()
	acct := cf.F(DefaultAccount)
	created, err := c.Alerting.Policies.New(ctx, alerting.PolicyNewParams{
		AccountID:   acct,
		Name:        cf.F("pool health"),
		AlertType:   cf.F(alerting.PolicyNewParamsAlertTypeLoadBalancingHealthAlert),
		Enabled:     cf.F(true),
		Description: cf.F("managed by nekoctl; stack=x"),
		Mechanisms:  cf.F(alerting.MechanismParam{Email: cf.F([]alerting.MechanismEmailParam{{ID: cf.F("oncall@example.com")}})}),
		Filters: cf.F(alerting.PolicyFilterParam{PoolID: cf.F([]string{poolID}),
			NewHealth: cf.F([]string{"Unhealthy", "Healthy"}), EventSource: cf.F([]string{"pool"})}),
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Alerting.Policies.Get(ctx, created.ID, alerting.PolicyGetParams{AccountID: acct})
	if err != nil {
		t.Fatal(err)
	}
	if got.AlertType != alerting.PolicyAlertTypeLoadBalancingHealthAlert || !got.Enabled ||
		len(got.Filters.PoolID) != 1 || got.Filters.PoolID[0] != poolID || got.Mechanisms.Email[0].ID != "oncall@example.com" {
		t.Fatalf("policy read back differently: %+v", got)
	}
	if _, err := c.Alerting.Policies.Update(ctx, created.ID, alerting.PolicyUpdateParams{
		AccountID: acct, Name: cf.F("pool health"), AlertType: cf.F(alerting.PolicyUpdateParamsAlertTypeLoadBalancingHealthAlert),
		Enabled:    cf.F(false),
		Mechanisms: cf.F(alerting.MechanismParam{Email: cf.F([]alerting.MechanismEmailParam{{ID: cf.F("sre@example.com")}})}),
	}); err != nil {
		t.Fatal(err)
	}
	page, err := c.Alerting.Policies.List(ctx, alerting.PolicyListParams{AccountID: acct})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Result) != 1 || page.Result[0].Enabled || page.Result[0].Mechanisms.Email[0].ID != "sre@example.com" {
		t.Fatalf("after update: %+v", page.Result)
	}
	if _, err := c.Alerting.Policies.Delete(ctx, created.ID, alerting.PolicyDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Policies(DefaultAccount)); n != 0 {
		t.Fatalf("%d policies left after delete", n)
	}
	_, err = c.Alerting.Policies.Get(ctx, created.ID, alerting.PolicyGetParams{AccountID: acct})
	var apiErr *cf.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Fatalf("get after delete: want 404, got %v", err)
	}
}

// Invalid policies are refused with every problem at once, and nothing is stored.
func TestPolicyValidation(t *testing.T) {
	s := New(t)
	path := "/accounts/" + DefaultAccount + "/alerting/v3/policies"
	for name, tc := range map[string]struct {
		body map[string]any
		want []string
	}{
		"empty": {map[string]any{}, []string{"name is required", "enabled is required", `alert_type "" is invalid`, "mechanisms is required"}},
		"bad filters and destinations": {map[string]any{
			"name": "x", "enabled": true, "alert_type": "load_balancing_health_alert",
			"filters":    map[string]any{"pool_id": []string{"nope"}, "new_health": []string{"Sick"}, "zones": []string{"z"}},
			"mechanisms": map[string]any{"email": []map[string]string{{"id": "not-an-address"}}, "webhooks": []map[string]string{{"id": "w1"}}},
		}, []string{"pool nope does not exist", `"Sick" is not one of Healthy, Unhealthy`, "filters.zones is not a filter",
			`"not-an-address" is not an email address`, "destination w1 does not exist"}},
		"no destination": {map[string]any{
			"name": "x", "enabled": true, "alert_type": "load_balancing_health_alert", "mechanisms": map[string]any{"email": []any{}},
		}, []string{"at least one destination"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := call(t, s, "POST", path, tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", r.status)
			}
			msgs := r.messages()
			for _, w := range tc.want {
				if !strings.Contains(msgs, w) {
					t.Errorf("missing %q in %s", w, msgs)
				}
			}
		})
	}
	if n := len(s.Policies(DefaultAccount)); n != 0 {
		t.Fatalf("%d policies stored from invalid requests", n)
	}
}
