package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

func TestAppManifestPermissions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want map[string]string
	}{
		{nil, map[string]string{"organization_self_hosted_runners": "write", "actions": "write", "metadata": "read"}},
		{[]string{"-level", "repo"}, map[string]string{"administration": "write", "actions": "write", "metadata": "read"}},
		{[]string{"-level", "org", "-user-repos"}, map[string]string{"organization_self_hosted_runners": "write", "administration": "write", "actions": "write", "metadata": "read"}},
		{[]string{"-level", "org,repo"}, map[string]string{"organization_self_hosted_runners": "write", "administration": "write", "actions": "write", "metadata": "read"}},
	} {
		var out strings.Builder
		if err := run(context.Background(), append([]string{"app", "manifest", "-owner", "acme"}, c.args...), &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		var m appManifest
		if err := json.Unmarshal([]byte(out.String()), &m); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(m.DefaultPermissions) != fmt.Sprint(c.want) || fmt.Sprint(m.DefaultEvents) != "[workflow_job]" {
			t.Errorf("%v: permissions %v events %v, want %v and workflow_job", c.args, m.DefaultPermissions, m.DefaultEvents, c.want)
		}
		if m.HookAttributes.Active || m.Name != "ghr-acme" {
			t.Errorf("%v: the webhook must start inactive (its URL exists after apply); name %q", c.args, m.Name)
		}
	}
	if err := run(context.Background(), []string{"app", "manifest", "-level", "enterprise"}, io.Discard, io.Discard); err == nil {
		t.Fatal("an unknown level was accepted")
	}
}

// TestAppBrowserFlowAndConvert plays the browser against the GitHub simulator: the served page
// posts the manifest, GitHub's redirect brings the code back, and `app convert` stores the App
// in SSM where github_app_parameters points the module.
func TestAppBrowserFlowAndConvert(t *testing.T) {
	ctx := context.Background()
	sim, err := ghsim.Start(ctx, ghsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	if _, err := sim.AddOrg("acme"); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"app", "manifest", "-serve", "-owner", "acme", "-github-url", sim.URL}, out, io.Discard)
	}()
	var page string
	for deadline := time.Now().Add(time.Minute); page == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		page, _, _ = strings.Cut(out.String(), "\n")
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`action="([^"]+)"[\s\S]*name="manifest" value="([^"]+)"`).FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no manifest form in the page:\n%s", body)
	}
	// The browser posts the form and follows GitHub's redirect back to the callback.
	resp, err = http.PostForm(html.UnescapeString(m[1]), url.Values{"manifest": {html.UnescapeString(m[2])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("app manifest -serve: %v", err)
	}
	var code string
	if _, err := fmt.Sscanf(strings.SplitN(out.String(), "\n", 3)[1], "code %s", &code); err != nil {
		t.Fatalf("no code printed: %q", out.String())
	}

	moto := motoserver.Start(t)
	for k, v := range motoproc.Env(moto.URL) {
		t.Setenv(k, v)
	}
	var conv strings.Builder
	if err := run(ctx, []string{"app", "convert", code, "-prefix", "ghr", "-region", motoproc.Region, "-github-api-url", sim.URL}, &conv, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(conv.String(), `key            = "/ghr/github-app/key"`) {
		t.Fatalf("convert printed no github_app_parameters:\n%s", conv.String())
	}
	sc := ssm.NewFromConfig(motoproc.AWSConfig(moto.URL))
	for name, want := range map[string]string{"id": fmt.Sprint(sim.AppID()), "key": string(sim.PrivateKeyPEM())} {
		p, err := sc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/ghr/github-app/" + name), WithDecryption: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if p.Parameter.Type != "SecureString" || aws.ToString(p.Parameter.Value) != want {
			t.Errorf("/ghr/github-app/%s: %s %.20q, want the App's as a SecureString", name, p.Parameter.Type, aws.ToString(p.Parameter.Value))
		}
	}
	// The code is spent: GitHub answers 404 and nothing is overwritten.
	err = run(ctx, []string{"app", "convert", code, "-prefix", "ghr", "-region", motoproc.Region, "-github-api-url", sim.URL}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "used or older than an hour") {
		t.Fatalf("second conversion: %v", err)
	}
}
