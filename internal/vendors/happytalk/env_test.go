package happytalk

import (
	"strings"
	"testing"
)

func TestFromEnv(t *testing.T) {
	env := map[string]string{"HAPPYTALK_TOKEN": "t", "HAPPYTALK_GENDER_FORMAT": "korean", "HAPPYTALK_TIMEZONE": "UTC",
		"HAPPYTALK_PARAMETER_MAP": "tier:parameter1", "HAPPYTALK_BASE_URL": "http://127.0.0.1:1/"}
	a, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !a.Enabled() || a.male != "남" || a.Location().String() != "UTC" || a.slots["tier"] != 0 ||
		a.setUserInfoURL != "http://127.0.0.1:1"+setUserInfoPath {
		t.Fatalf("adapter from the environment: %+v", a)
	}
	d, err := FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if d.Enabled() || d.Location().String() != DefaultTimezone || d.setUserInfoURL != DefaultBaseURL+setUserInfoPath {
		t.Fatalf("defaults: %+v", d)
	}
}

// Every refusal names the variable to fix.
func TestFromEnvNamesTheVariable(t *testing.T) {
	for name, value := range map[string]string{
		"HAPPYTALK_TIMEZONE":      "Mars/Olympus",
		"HAPPYTALK_GENDER_FORMAT": "emoji",
		"HAPPYTALK_PARAMETER_MAP": "tier:parameter99",
	} {
		_, err := FromEnv(func(k string) string {
			if k == name {
				return value
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, value, err)
		}
	}
}
