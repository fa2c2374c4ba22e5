package config_test

import (
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/config"
)

const goodKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func load(env map[string]string) (*config.Config, error) {
	return config.Load(func(k string) string { return env[k] })
}

func production(extra map[string]string) map[string]string {
	env := map[string]string{
		"TWINME_ENV": "production", "TWINME_PUBLIC_URL": "https://api.twin.me",
		"TWINME_ENCRYPTION_KEYS": goodKey, "TWINME_METRICS_TOKEN": "metrics-secret",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestProductionRefusesUnsafeSettings: each unsafe setting stops production
// at start with a message naming the variable.
func TestProductionRefusesUnsafeSettings(t *testing.T) {
	if _, err := load(production(nil)); err != nil {
		t.Fatalf("safe production settings refused: %v", err)
	}
	for _, tc := range []struct {
		name, variable string
		env            map[string]string
	}{
		{"http public URL", "TWINME_PUBLIC_URL", map[string]string{"TWINME_PUBLIC_URL": "http://api.twin.me"}},
		{"loopback http public URL", "TWINME_PUBLIC_URL", map[string]string{"TWINME_PUBLIC_URL": "http://127.0.0.1:8080"}},
		{"public URL derived from 0.0.0.0", "TWINME_PUBLIC_URL", map[string]string{"TWINME_PUBLIC_URL": "", "TWINME_LISTEN": "0.0.0.0:8080"}},
		{"any CORS origin", "TWINME_CORS_ORIGINS", map[string]string{"TWINME_CORS_ORIGINS": "https://app.twin.me,*"}},
		{"open metrics", "TWINME_METRICS_TOKEN", map[string]string{"TWINME_METRICS_TOKEN": ""}},
		{"no encryption keys", "TWINME_ENCRYPTION_KEYS", map[string]string{"TWINME_ENCRYPTION_KEYS": ""}},
		{"malformed encryption key", "TWINME_ENCRYPTION_KEYS", map[string]string{"TWINME_ENCRYPTION_KEYS": "k1:c2hvcnQ="}},
		{"key without id", "TWINME_ENCRYPTION_KEYS", map[string]string{"TWINME_ENCRYPTION_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}},
		{"bad redis URL", "TWINME_REDIS_URL", map[string]string{"TWINME_REDIS_URL": "http://cache:6379"}},
		{"bad metrics address", "TWINME_METRICS_LISTEN", map[string]string{"TWINME_METRICS_TOKEN": "", "TWINME_METRICS_LISTEN": "9090"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(production(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Fatalf("want an error naming %s, got %v", tc.variable, err)
			}
		})
	}
}

func TestProductionEscapeHatches(t *testing.T) {
	c, err := load(production(map[string]string{"TWINME_PUBLIC_URL": "http://localhost:8080", "TWINME_ALLOW_INSECURE_PUBLIC_URL": "true"}))
	if err != nil || c.SecureCookies() {
		t.Fatalf("explicit insecure trial: %v", err)
	}
	if _, err := load(production(map[string]string{"TWINME_METRICS_TOKEN": "", "TWINME_METRICS_LISTEN": "127.0.0.1:9090"})); err != nil {
		t.Fatalf("metrics on a separate address: %v", err)
	}
	if _, err := load(production(map[string]string{"TWINME_ALLOW_INSECURE_PUBLIC_URL": "maybe"})); err == nil || !strings.Contains(err.Error(), "TWINME_ALLOW_INSECURE_PUBLIC_URL") {
		t.Fatalf("non-boolean: %v", err)
	}
	// Development keeps its conveniences.
	if c, err := load(map[string]string{"TWINME_CORS_ORIGINS": "*"}); err != nil || c.RateLimit.Limit != 1000 || c.IngestRateLimit.Limit != 1000 || c.AuthFailureRateLimit.Limit != 30 {
		t.Fatalf("development defaults: %+v %v", c, err)
	}
}
