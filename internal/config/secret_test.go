package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// A Secret printed or logged in any way a developer might reach for shows where it comes
// from, never its value.
func TestSecretNeverPrintsItsValue(t *testing.T) {
	const value = "-----BEGIN-not-a-real-key-value-----"
	for _, s := range []Secret{{Env: "GITHUB_APP_KEY", Value: value}, {Env: "GITHUB_APP_KEY", Value: value, Parameter: "/ghr/app/key"}} {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		log.Info("config", "secret", s, "ptr", &s, "group", struct{ Key Secret }{s})
		j, err := json.Marshal(struct{ Key Secret }{s})
		if err != nil {
			t.Fatal(err)
		}
		outs := map[string]string{
			"slog": buf.String(), "json": string(j),
			"%v": fmt.Sprintf("%v", s), "%+v": fmt.Sprintf("%+v", s), "%s": fmt.Sprintf("%s", s),
			"%#v": fmt.Sprintf("%#v", s), "%v ptr": fmt.Sprintf("%v", &s), "%#v ptr": fmt.Sprintf("%#v", &s),
			"%+v nested": fmt.Sprintf("%+v", struct{ Key Secret }{s}),
		}
		for how, out := range outs {
			if strings.Contains(out, value) {
				t.Errorf("%s prints the value: %s", how, out)
			}
			if !strings.Contains(out, "[redacted]") && !strings.Contains(out, "ssm:/ghr/app/key") {
				t.Errorf("%s does not say where the secret is: %s", how, out)
			}
		}
	}
}
