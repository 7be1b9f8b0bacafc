package bootstrap_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bt "github.com/ghr-dev/ghr/internal/harness/bootstrap/bootstraptest"

	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// userDataLimit is EC2's cap on user data, counted before base64.
const userDataLimit = 16 << 10

// terraformTimeout bounds `terraform init` + `console`; both are local, no provider is needed.
const terraformTimeout = 60 * time.Second

func readTemplate(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bt.TemplatesDir(), "user-data.sh.tftpl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sampleVars are realistic production values, hooks included.
func sampleVars(t *testing.T) map[string]string {
	t.Helper()
	h := bt.New(t, false)
	v := h.Vars
	v["metadata_url"] = "http://169.254.169.254"
	v["token_wait_timeout_seconds"] = "300"
	v["shutdown_delay_seconds"] = "10"
	v["cloudwatch_config_parameter"] = "/ghr/cloudwatch-agent"
	v["pre_install_script"] = "dnf install -y -q git docker\nsystemctl enable --now docker\n"
	v["post_install_script"] = "usermod -aG docker ghr-runner\necho 'ACTIONS_RUNNER_HOOK_JOB_STARTED=/opt/hooks/start.sh' >>/opt/actions-runner/.env\n"
	return v
}

// TestShellcheck runs shellcheck over start-runner.sh and the rendered user data. CI installs
// shellcheck (scripts/check-tools.sh); a developer without it gets a skip, never a pass.
func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("shellcheck missing in CI: run scripts/check-tools.sh")
		}
		t.Skip("shellcheck not installed (apt-get install -y shellcheck)")
	}
	rendered, err := bt.Render(readTemplate(t), sampleVars(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ud := filepath.Join(dir, "user-data.sh")
	if err := os.WriteFile(ud, []byte(rendered), 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{ud, filepath.Join(bt.TemplatesDir(), "start-runner.sh")}
	out, err := exec.Command(sc, append([]string{"--shell=bash", "--severity=style"}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("shellcheck: %v\n%s", err, out)
	}
}

// TestUserDataSize keeps the rendered user data under EC2's limit: as is with empty hooks,
// and gzipped (base64gzip in Terraform; cloud-init unpacks it) with typical hooks.
func TestUserDataSize(t *testing.T) {
	tmpl := readTemplate(t)
	v := sampleVars(t)
	full, err := bt.Render(tmpl, v)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(full))
	_ = w.Close()
	v["pre_install_script"], v["post_install_script"] = "", ""
	bare, err := bt.Render(tmpl, v)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("user data: %d bytes without hooks, %d with sample hooks, %d gzipped", len(bare), len(full), gz.Len())
	if len(bare) >= userDataLimit {
		t.Errorf("user data without hooks is %d bytes, EC2 allows %d", len(bare), userDataLimit)
	}
	if gz.Len() >= userDataLimit/2 {
		t.Errorf("gzipped user data is %d bytes: leaves under half of EC2's %d for hooks", gz.Len(), userDataLimit)
	}
}

// TestTemplateVariablesDocumented checks the header's templatefile() example names exactly the
// variables the template uses, so the module engineer's call is complete.
func TestTemplateVariablesDocumented(t *testing.T) {
	tmpl := readTemplate(t)
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^#\s{3,}([a-z_]+)\s+=`).FindAllStringSubmatch(tmpl, -1) {
		if m[1] != "user_data" {
			documented = append(documented, m[1])
		}
	}
	slices.Sort(documented)
	if used := bt.TemplateVars(tmpl); !slices.Equal(documented, used) {
		t.Errorf("header documents %v\ntemplate uses %v", documented, used)
	}
}

func TestRender(t *testing.T) {
	vars := map[string]string{"a": "x${y}", "b": "hi"}
	cases := []struct{ in, want, err string }{
		{in: "${a}-$${a}-%%{x}-$$-$b", want: "x${y}-${a}-%{x}-$$-$b"},
		{in: "${base64encode(b)}", want: base64.StdEncoding.EncodeToString([]byte("hi"))},
		{in: "${c}", err: `does not contain key "c"`},
		{in: "${upper(b)}", err: "unsupported interpolation"},
		{in: "${ a }", err: "unsupported interpolation"},
		{in: "%{ if true }x%{ endif }", err: "directive"},
	}
	for _, tc := range cases {
		got, err := bt.Render(tc.in, vars)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("Render(%q) error %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Render(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestRenderMatchesTerraform renders the template with the real templatefile() where Terraform
// is installed, and compares it with Render byte for byte.
func TestRenderMatchesTerraform(t *testing.T) {
	slow.Skip(t, slow.Terraform)
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not installed; Render's own cases still hold the syntax subset")
	}
	vars := sampleVars(t)
	want, err := bt.Render(readTemplate(t), vars)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var hcl strings.Builder
	hcl.WriteString("locals {\n  ud = base64encode(templatefile(\"" + filepath.Join(bt.TemplatesDir(), "user-data.sh.tftpl") + "\", {\n")
	for k, v := range vars {
		hcl.WriteString("    " + k + " = base64decode(\"" + base64.StdEncoding.EncodeToString([]byte(v)) + "\")\n")
	}
	hcl.WriteString("  }))\n}\n")
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), terraformTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tf, "console")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("local.ud\n")
	cmd.Env = append(os.Environ(), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform console: %v\n%s", err, out)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Trim(strings.TrimSpace(string(out)), `"`))
	if err != nil {
		t.Fatalf("terraform console printed %q", out)
	}
	if string(raw) != want {
		t.Errorf("Render differs from templatefile():\nterraform:\n%s\nrender:\n%s", raw, want)
	}
}
