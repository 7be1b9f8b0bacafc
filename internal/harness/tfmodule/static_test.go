package tfmodule

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// repoRoot is the repository root; every test resolves paths from it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// workspace initialises dir (relative to the repository root) with private data.
func workspace(t *testing.T, dir string) *Workspace {
	t.Helper()
	ws, err := NewWorkspace(context.Background(), filepath.Join(repoRoot(t), dir), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func TestFormat(t *testing.T) {
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Fatal(InstallHint)
	}
	cmd := exec.Command("terraform", "fmt", "-check", "-recursive", "-diff", "terraform", "examples")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("terraform fmt -check: %v (run terraform fmt -recursive terraform examples)\n%s", err, out)
	}
}

func TestValidate(t *testing.T) {
	slow.Skip(t, slow.Terraform)
	t.Parallel()
	dirs, err := ConfigDirs(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %d configurations: %v", len(dirs), dirs)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			ws := workspace(t, dir)
			out, err := ws.TF.Validate(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range out.Diagnostics {
				t.Errorf("%s: %s: %s", d.Severity, d.Summary, d.Detail)
			}
			if !out.Valid {
				t.Fatal("not valid")
			}
		})
	}
}

func TestTerraformTest(t *testing.T) {
	slow.Skip(t, slow.Terraform)
	t.Parallel()
	ws := workspace(t, "terraform")
	var out bytes.Buffer
	if err := ws.TF.Test(context.Background(), &out); err != nil {
		t.Fatalf("terraform test: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), " passed, 0 failed") {
		t.Fatalf("terraform test ran no test:\n%s", out.String())
	}
}

func TestReadmeUpToDate(t *testing.T) {
	current, want, err := Readme(filepath.Join(repoRoot(t), "terraform"))
	if err != nil {
		t.Fatal(err)
	}
	if current != want {
		t.Fatal("terraform/README.md is out of date: run go run ./cmd/tfdocs")
	}
}

// TestModuleInterfaces holds every module of terraform/ to its interface rules: each variable
// typed and described, each output described, and each root input passed to a submodule under
// its own name (`x = var.x`, never `y = var.x`), so one setting has one name at both levels.
// The function module's inputs are generic (name, schedule, environment) and exempt.
func TestModuleInterfaces(t *testing.T) {
	root := repoRoot(t)
	dirs, err := ConfigDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		if !strings.HasPrefix(dir, "terraform") {
			continue // the examples are users' configurations
		}
		m, err := Inspect(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, v := range m.Variables {
			if v.Type == "" || v.Description == "" {
				t.Errorf("%s: variable %q needs a type and a description", dir, v.Name)
			}
		}
		for _, o := range m.Outputs {
			if o.Description == "" {
				t.Errorf("%s: output %q needs a description", dir, o.Name)
			}
		}
		for _, p := range m.Passes {
			if dir == "terraform" && p.Argument != p.Variable {
				t.Errorf("%s: module %q gets var.%s as %q: pass it under the same name", dir, p.Module, p.Variable, p.Argument)
			}
		}
	}
	if checked < 7 {
		t.Fatalf("checked only %d modules", checked)
	}
}

// TestEveryValidationFires plans the module with every input rule broken at once and expects
// each validation block of variables.tf to report its own message: a rule whose condition can
// never fail, or fails to evaluate, is caught here. Terraform skips the rules of a variable
// whose rules refer to another invalid variable, so github_app_parameters is broken in a second
// plan of its own.
func TestEveryValidationFires(t *testing.T) {
	slow.Skip(t, slow.Terraform)
	t.Parallel()
	root := repoRoot(t)
	m, err := Inspect(filepath.Join(root, "terraform"))
	if err != nil {
		t.Fatal(err)
	}
	ws := workspace(t, "terraform")
	bad := badInputs()
	second := goodInputs()
	second["github_app_parameters"] = map[string]any{"key": "app-key"}
	second["github_app"] = map[string]any{"id": "1", "webhook_secret": "0123456789abcdef"}
	var details []string
	for i, inputs := range []map[string]any{bad, second} {
		details = append(details, planErrors(t, ws, inputs, i)...)
	}
	n := 0
	for _, v := range m.Variables {
		for _, val := range v.Validations {
			n++
			if !containsPrefix(details, val.ErrorMessage) {
				t.Errorf("var.%s: the rule %q never fired (condition %s)", v.Name, val.ErrorMessage, val.Condition)
			}
		}
	}
	if n < 60 {
		t.Errorf("only %d validation blocks found in variables.tf", n)
	}
	t.Logf("%d validation rules, each fired with its message", n)
}

// planErrors plans with inputs, which must fail, and returns the details of the variable
// validation errors. An error raised while evaluating variables.tf for any other reason fails
// the test; errors about the provider (which has no credentials here) are not of interest.
func planErrors(t *testing.T, ws *Workspace, inputs map[string]any, i int) []string {
	t.Helper()
	varFile := filepath.Join(t.TempDir(), fmt.Sprintf("bad-%d.tfvars.json", i))
	b, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(varFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := ws.TF.PlanJSON(context.Background(), &out, tfexec.VarFile(varFile), tfexec.Refresh(false)); err == nil {
		t.Fatalf("plan %d with broken inputs succeeded", i)
	}
	var details []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Severity string `json:"severity"`
				Summary  string `json:"summary"`
				Detail   string `json:"detail"`
				Range    struct {
					Filename string `json:"filename"`
				} `json:"range"`
			} `json:"diagnostic"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Type != "diagnostic" || line.Diagnostic.Severity != "error" {
			continue
		}
		d := line.Diagnostic
		switch {
		case d.Summary == "Invalid value for variable":
			details = append(details, d.Detail)
		case d.Range.Filename == "variables.tf":
			t.Errorf("plan %d: a rule failed to evaluate: %s: %s", i, d.Summary, d.Detail)
		}
	}
	return details
}

// goodInputs are valid inputs of the root module.
func goodInputs() map[string]any {
	return map[string]any{
		"prefix":         "ghr-test",
		"vpc_id":         "vpc-0123456789abcdef0",
		"subnet_ids":     []string{"subnet-0123456789abcdef0"},
		"github_app":     map[string]any{"id": "1", "key": "k", "webhook_secret": "0123456789abcdef"},
		"runner_configs": map[string]any{"small": map[string]any{"labels": []string{"linux"}, "instance_types": []string{"m7i.large"}}},
	}
}

func containsPrefix(details []string, msg string) bool {
	for _, d := range details {
		if strings.HasPrefix(d, msg) {
			return true
		}
	}
	return false
}

// badInputs breaks every validation rule of the root module, one field per rule.
func badInputs() map[string]any {
	good := map[string]any{"labels": []string{"linux"}, "instance_types": []string{"m7i.large"}}
	cfg := func(kv ...any) map[string]any {
		c := map[string]any{}
		for k, v := range good {
			c[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	configs := map[string]any{
		"Bad_Key":         cfg(),
		"no-labels":       cfg("labels", []string{}),
		"match":           cfg("match", "fuzzy"),
		"level":           cfg("level", "enterprise"),
		"arch":            cfg("architecture", "amd64"),
		"types":           cfg("instance_types", []string{}),
		"capacity":        cfg("capacity_type", "reserved"),
		"strategy":        cfg("allocation_strategy", "prioritized"),
		"max":             cfg("max_runners", -2),
		"boot":            cfg("boot_minutes", 0),
		"pool-over-max":   cfg("max_runners", 1, "pool_size", 2, "pool_owner", "octo-org"),
		"pool-no-owner":   cfg("pool_size", 1),
		"eviction":        cfg("idle_eviction", "random"),
		"cron":            cfg("idle_config", []map[string]any{{"cron": "* 9-17", "idle_count": 1}}),
		"root-user":       cfg("runner_user", "root"),
		"relative-dir":    cfg("runner_dir", "opt/runner"),
		"ami":             cfg("ami", map[string]any{"id": "image-1"}),
		"volume":          cfg("root_volume_size", 4),
		"hop-limit":       cfg("metadata_hop_limit", 0),
		"labels-in-comma": cfg("labels", []string{"a,b"}),
		"software":        cfg("install_software", []string{"docker", "nginx"}),
	}
	// Over the 100-config limit, and every config lacks subnets (subnet_ids is empty).
	for i := len(configs); i <= 100; i++ {
		configs[fmt.Sprintf("filler-%03d", i)] = cfg()
	}
	return map[string]any{
		"prefix":         "Bad_Prefix",
		"vpc_id":         "vpc-0123456789abcdef0",
		"subnet_ids":     []string{},
		"tags":           map[string]string{"ghr:environment": "x"},
		"runner_configs": configs,
		// id given twice, key not at all, a name for an id, a short secret.
		"github_app":                      map[string]any{"id": "my-app", "webhook_secret": "short"},
		"github_app_parameters":           map[string]any{"id": "/shared/app-id"},
		"github_apps":                     badApps(),
		"github_api_url":                  "ftp://ghes.example.com",
		"github_points_per_minute":        901,
		"kms_key_arn":                     "alias/mine",
		"app_kms_key_arn":                 "alias/app",
		"runner_volume_kms_key":           "alias/aws/ebs",
		"kms_deletion_window_days":        3,
		"lambda_zip_paths":                map[string]string{"bogus": "x.zip"},
		"lambda_s3":                       map[string]any{"bucket": "Bad_Bucket", "keys": map[string]string{"bogus": "x.zip"}},
		"lambda_architecture":             "amd64",
		"function_settings":               map[string]any{"bogus": map[string]any{}, "webhook": map[string]any{"memory_size": 64}},
		"log_level":                       "verbose",
		"log_retention_days":              10,
		"lambda_vpc":                      map[string]any{"subnet_ids": []string{"subnet-1"}, "security_group_ids": []string{}},
		"role_path":                       "ghr",
		"role_permissions_boundary":       "boundary",
		"runner_name_prefix":              "has space i-", // bad characters, and overlapping ("ci-" and "ci-i-")
		"runner_configs_storage":          "s3",
		"runner_configs_inline_max_bytes": 5000,
		"spot_circuit_breaker":            map[string]any{"interruptions": 1.5, "window_minutes": 1, "cooldown_minutes": 30},
		"scale_up": map[string]any{
			"batch_size": 11, "batching_window_seconds": 301, "maximum_concurrency": 1,
			"check_job_queued": "sometimes", "github_concurrency": 0, "offering_cache_ttl": "3 minutes", "recheck_after": "16m",
		},
		"build_queue":            map[string]any{"max_receive_count": 0, "message_retention_seconds": 10},
		"scale_down_schedule":    "every 5 minutes",
		"pool_schedule":          map[string]any{"expression": "*/5 * * * *"},
		"repository_allowlist":   []string{"just-a-repo"},
		"webhook_max_body_bytes": 100,
		"api_throttling":         map[string]any{"rate_limit": 0, "burst_limit": 5001},
		"webhook_source_ranges":  []string{"github"},
		"alarms": map[string]any{"sns_topic_arn": "oncall", "queue_age_minutes": -1, "webhook_4xx_percent": 101,
			"deferrals_minutes": 2000},
		"redeliver": map[string]any{"schedule": "hourly", "lookback": "2d", "max_per_pass": 0},
		"syncer": map[string]any{
			"runner_version": "2.3", "runner_targets": []string{"linux-s390x"}, "runner_repository": "runner",
			"credentials": "token", "schedule": "hourly",
		},
		"dist_bucket": map[string]any{"name": "Bad_Bucket", "noncurrent_version_days": 0},
	}
}

// badApps breaks every rule of github_apps at once: 11 Apps (over 10), an id given twice, an
// id that is not a number, a parameter name without its slash, a budget under 10.
func badApps() []map[string]any {
	apps := []map[string]any{
		{"id": "1", "id_parameter": "/a/id", "key": "k"},
		{"id": "my-app", "key": "k"},
		{"id_parameter": "a/id", "key": "k"},
		{"id": "2", "key": "k", "points_per_minute": 5},
	}
	for len(apps) <= 10 {
		apps = append(apps, map[string]any{"id": "3", "key": "k"})
	}
	return apps
}
