package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/doctor"
)

func init() {
	register("app manifest", "[-owner ORG] [-level org,repo] [-user-repos] [-serve]", "print (or serve for the browser flow) the GitHub App manifest ghr needs", runAppManifest)
	register("app convert", "CODE -prefix P -region R", "finish the manifest flow: store the new App's id, key and webhook secret in SSM", runAppConvert)
}

// App manifest flow limits.
const (
	manifestWait     = 15 * time.Minute // a person reading and confirming GitHub's page
	conversionTimout = 30 * time.Second
	serveReadTimeout = 10 * time.Second
	// placeholderHook: GitHub wants a webhook URL in the manifest, but the real one exists only
	// after `terraform apply`; the hook is created inactive and set afterwards.
	placeholderHook = "https://example.com/ghr-webhook-set-after-terraform-apply"
)

// appManifest is GitHub's App manifest (docs: "Registering a GitHub App from a manifest").
type appManifest struct {
	Name               string            `json:"name"`
	URL                string            `json:"url"`
	HookAttributes     hookAttributes    `json:"hook_attributes"`
	RedirectURL        string            `json:"redirect_url,omitempty"`
	Public             bool              `json:"public"`
	DefaultPermissions map[string]string `json:"default_permissions"`
	DefaultEvents      []string          `json:"default_events"`
}

type hookAttributes struct {
	URL    string `json:"url"`
	Active bool   `json:"active"`
}

// appPermissions are exactly what the chosen runner levels need; doctor.NeededPermissions is
// the one place that rule lives.
func appPermissions(levels []string, userRepos bool) map[string]string {
	var cfgs []config.RunnerConfig
	for _, l := range levels {
		cfgs = append(cfgs, config.RunnerConfig{Level: l})
	}
	return doctor.NeededPermissions(cfgs, userRepos)
}

func buildManifest(name string, levels []string, userRepos bool, redirect string) appManifest {
	return appManifest{
		Name: name, URL: "https://github.com/ghr-dev/ghr", Public: false, RedirectURL: redirect,
		HookAttributes:     hookAttributes{URL: placeholderHook, Active: false},
		DefaultPermissions: appPermissions(levels, userRepos),
		DefaultEvents:      []string{"workflow_job"},
	}
}

func runAppManifest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("app manifest")
	owner := fs.String("owner", "", "organization that owns the App (empty: your user account)")
	levelsFlag := fs.String("level", "org", "runner levels the configs use: org, repo or org,repo")
	userRepos := fs.Bool("user-repos", false, "jobs of user-owned repositories run too (needs Administration: write)")
	name := fs.String("name", "", "App name, at most 34 characters (default ghr-<owner>)")
	serve := fs.Bool("serve", false, "serve the browser flow on localhost and print the code to convert")
	githubURL := fs.String("github-url", "https://github.com", "GitHub's web address (https://HOST for GitHub Enterprise Server)")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	var levels []string
	for _, l := range strings.Split(*levelsFlag, ",") {
		switch l = strings.TrimSpace(l); l {
		case "org", "repo":
			levels = append(levels, l)
		default:
			return usageError{fmt.Sprintf("-level %q: want org, repo or org,repo", *levelsFlag)}
		}
	}
	if *name == "" {
		*name = "ghr-" + strings.TrimSpace(*owner)
		if *owner == "" {
			*name = "ghr"
		}
	}
	if len(*name) > 34 {
		return usageError{fmt.Sprintf("-name %q: GitHub allows at most 34 characters", *name)}
	}
	if !*serve {
		b, _ := json.MarshalIndent(buildManifest(*name, levels, *userRepos, ""), "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	return serveManifest(ctx, *githubURL, *owner, *name, levels, *userRepos, stdout, stderr)
}

var manifestPage = template.Must(template.New("p").Parse(`<!doctype html><title>ghr: create the GitHub App</title>
<p>Creating GitHub App <b>{{.Name}}</b> with: {{range $k, $v := .Perms}}{{$k}}: {{$v}}; {{end}} events: workflow_job. Its webhook starts inactive.</p>
<form id="f" method="post" action="{{.Action}}"><input type="hidden" name="manifest" value="{{.Manifest}}"><button>Create on GitHub</button></form>
<script>document.getElementById("f").submit()</script>`))

// serveManifest runs the browser half of the flow on a loopback port: its page posts the
// manifest to GitHub, and GitHub's redirect brings the code back here.
func serveManifest(ctx context.Context, githubURL, owner, name string, levels []string, userRepos bool, stdout, stderr io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	st := make([]byte, 16)
	_, _ = rand.Read(st)
	state := hex.EncodeToString(st)
	m := buildManifest(name, levels, userRepos, base+"/callback")
	mj, _ := json.Marshal(m)
	action := strings.TrimSuffix(githubURL, "/") + "/settings/apps/new?state=" + state
	if owner != "" {
		action = strings.TrimSuffix(githubURL, "/") + "/organizations/" + owner + "/settings/apps/new?state=" + state
	}
	codes := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_ = manifestPage.Execute(w, map[string]any{"Name": name, "Perms": m.DefaultPermissions, "Action": action, "Manifest": string(mj)})
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state || q.Get("code") == "" {
			http.Error(w, "state does not match this flow: start again with ghr app manifest -serve", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "GitHub App created. Back in the terminal, run:\n\n  ghr app convert %s -prefix PREFIX -region REGION\n\nwithin an hour.\n", q.Get("code"))
		select {
		case codes <- q.Get("code"):
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: serveReadTimeout}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	defer srv.Close()
	fmt.Fprintf(stderr, "open %s/ in a browser signed in to GitHub (waiting up to %s)\n", base, manifestWait)
	fmt.Fprintf(stdout, "%s/\n", base)
	select {
	case code := <-codes:
		fmt.Fprintf(stdout, "code %s\nnext: ghr app convert %s -prefix PREFIX -region REGION\n", code, code)
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: no App was created", errInterrupted)
	case <-time.After(manifestWait):
		return fmt.Errorf("no answer from GitHub within %s: run ghr app manifest -serve again", manifestWait)
	}
}

// conversion is the part of POST /app-manifests/{code}/conversions' answer ghr keeps.
type conversion struct {
	ID            int64  `json:"id"`
	Slug          string `json:"slug"`
	HTMLURL       string `json:"html_url"`
	PEM           string `json:"pem"`
	WebhookSecret string `json:"webhook_secret"`
}

func runAppConvert(ctx context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			fs := newFlags("app convert")
			defineConvertFlags(fs)
			return parseFlags(fs, args, 0, stdout)
		}
		return usageError{"usage: ghr app convert CODE -prefix P -region R (CODE is what GitHub's redirect carried)"}
	}
	code := args[0]
	fs := newFlags("app convert")
	f := defineConvertFlags(fs)
	if err := parseFlags(fs, args[1:], 0, stdout); err != nil {
		return err
	}
	if !prefixRule.MatchString(*f.prefix) {
		return usageError{"-prefix: the module's prefix (2 to 24 lower-case letters, digits or hyphens)"}
	}
	if *f.region == "" {
		return usageError{"-region: required (the deployment's region; no default)"}
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(*f.region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	c, err := convertCode(ctx, *f.apiURL, code)
	if err != nil {
		return err
	}
	path := "/" + *f.prefix + "/github-app"
	sc := ssm.NewFromConfig(cfg)
	for _, p := range []struct{ name, value string }{{"id", fmt.Sprint(c.ID)}, {"key", c.PEM}, {"webhook-secret", c.WebhookSecret}} {
		in := &ssm.PutParameterInput{Name: aws.String(path + "/" + p.name), Value: aws.String(p.value), Type: ssmtypes.ParameterTypeSecureString,
			Description: aws.String("ghr GitHub App " + c.Slug + ": " + p.name + " (ghr app convert)")}
		if *f.kmsKey != "" {
			in.KeyId = f.kmsKey
		}
		if _, err := sc.PutParameter(ctx, in); err != nil {
			var exists *ssmtypes.ParameterAlreadyExists
			if errors.As(err, &exists) {
				return fmt.Errorf("%s/%s exists already: delete the old App's parameters or use another -prefix (the code is spent; create the App again)", path, p.name)
			}
			return fmt.Errorf("store %s/%s: %w", path, p.name, err)
		}
	}
	fmt.Fprintf(stdout, "GitHub App %s (id %d) stored in SSM under %s/ (id, key, webhook-secret).\n", c.Slug, c.ID, path)
	fmt.Fprintf(stdout, "Install it: %s/installations/new\nAfter terraform apply, set the App's webhook URL and this secret (aws ssm get-parameter --with-decryption --name %s/webhook-secret) and activate it.\nGive the module:\n\n", c.HTMLURL, path)
	fmt.Fprintf(stdout, "  github_app_parameters = {\n    id             = %q\n    key            = %q\n    webhook_secret = %q\n  }\n", path+"/id", path+"/key", path+"/webhook-secret")
	return nil
}

type convertFlags struct{ prefix, region, apiURL, kmsKey *string }

func defineConvertFlags(fs interface {
	String(name, value, usage string) *string
}) convertFlags {
	return convertFlags{
		prefix: fs.String("prefix", "", "the deployment's prefix: parameters go under /<prefix>/github-app/"),
		region: fs.String("region", "", "AWS region of the deployment (required)"),
		apiURL: fs.String("github-api-url", "https://api.github.com", "GitHub API URL (https://HOST/api/v3 for GitHub Enterprise Server)"),
		kmsKey: fs.String("kms-key", "", "KMS key for the SecureStrings (default the AWS-managed aws/ssm key, which the module accepts)"),
	}
}

// convertCode completes the flow: an unauthenticated POST that answers once per code.
func convertCode(ctx context.Context, apiURL, code string) (*conversion, error) {
	ctx, cancel := context.WithTimeout(ctx, conversionTimout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(apiURL, "/")+"/app-manifests/"+code+"/conversions", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("conversion: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errors.New("conversion: GitHub does not know this code: it is used or older than an hour; create the App again")
	case resp.StatusCode != http.StatusCreated:
		return nil, fmt.Errorf("conversion: %s", resp.Status)
	}
	var c conversion
	if err := json.Unmarshal(body, &c); err != nil || c.ID == 0 || c.PEM == "" {
		return nil, errors.New("conversion: GitHub's answer lacks the App id or key")
	}
	if c.WebhookSecret == "" {
		// GitHub may leave it null for an inactive hook: the secret is set in the App's
		// settings with the URL after apply anyway, so make one.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.WebhookSecret = hex.EncodeToString(b)
	}
	return &c, nil
}
