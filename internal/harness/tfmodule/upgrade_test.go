package tfmodule

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-exec/tfexec"
	tfjson "github.com/hashicorp/terraform-json"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// upgradeBase is the commit whose module an existing deployment is assumed to run: the tree
// before the module took its current shape (the deployment object, the dist bucket at the
// root). Move it forward to each release; never past a commit whose deployments may still be
// out there without a moved block covering them.
const upgradeBase = "bbaf3361536a9dd8253c8c409317a6ea2973d533"

// upgradeDeadline bounds the old tree's apply and the current tree's plan: on a 2-core
// machine under a load of 20 the apply alone took 3.5 minutes.
const upgradeDeadline = 12 * time.Minute

// TestUpgradeKeepsResources applies examples/local as it was at upgradeBase to a fresh
// moto_server, then plans the current examples/local against that state and fails on any
// resource the plan would destroy or replace: an existing deployment must upgrade in place,
// every address change covered by a moved block (terraform/moved.tf).
func TestUpgradeKeepsResources(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	t.Parallel() // mostly waits on the provider's polling, like TestApplyDestroyLocal
	ctx, cancel := context.WithTimeout(context.Background(), upgradeDeadline)
	defer cancel()
	root := repoRoot(t)
	old := t.TempDir()
	extractTree(t, root, upgradeBase, old, "terraform", "examples")

	moto := motoserver.Start(t)
	data := t.TempDir()
	state := filepath.Join(data, "terraform.tfstate")
	varFile := filepath.Join(data, "local.tfvars.json")
	writeJSON(t, varFile, localVars(moto.URL, fixtureZips(t)))

	before, err := NewWorkspace(ctx, filepath.Join(old, "examples/local"), filepath.Join(data, "before"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	//nolint:staticcheck // -state keeps the example directory free of state files
	if err := before.TF.Apply(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("apply of %s: %v", upgradeBase[:7], err)
	}
	t.Logf("apply of %s: %s", upgradeBase[:7], time.Since(start).Round(time.Second))

	after, err := NewWorkspace(ctx, filepath.Join(root, "examples/local"), filepath.Join(data, "after"))
	if err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(data, "upgrade.tfplan")
	start = time.Now()
	//nolint:staticcheck // see Apply
	// No refresh: nothing changed the deployment since the apply wrote the state, and the
	// emulator's drift (attributes it reads back differently) would only blur what the new
	// tree itself changes.
	if _, err := after.TF.Plan(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Out(planFile), tfexec.Refresh(false), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("plan of the current tree: %v", err)
	}
	plan, err := after.TF.ShowPlanFile(ctx, planFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("plan: %s", time.Since(start).Round(time.Second))

	lost, moved, changed := upgradeChanges(plan)
	t.Logf("upgrade from %s: %d resources moved, %d created or updated in place", upgradeBase[:7], len(moved), len(changed))
	for _, c := range changed {
		t.Logf("  %s", c)
	}
	if len(lost) > 0 {
		t.Errorf("the upgrade would destroy or replace %d resources (add moved blocks, terraform/moved.tf):\n%s", len(lost), strings.Join(lost, "\n"))
	}
}

// upgradeChanges sorts a plan's resource changes: those that destroy an object (delete, or
// delete and create: a replacement), those whose address moved, and the other changes.
func upgradeChanges(plan *tfjson.Plan) (lost, moved, changed []string) {
	for _, rc := range plan.ResourceChanges {
		if rc.Mode != tfjson.ManagedResourceMode || rc.Change == nil {
			continue
		}
		actions := rc.Change.Actions
		name := rc.Address
		if rc.PreviousAddress != "" && rc.PreviousAddress != rc.Address {
			name = rc.PreviousAddress + " → " + rc.Address
			moved = append(moved, name)
		}
		switch {
		case slices.Contains(actions, tfjson.ActionDelete):
			lost = append(lost, name+" "+actionString(actions))
		case actions.Update():
			changed = append(changed, name+" "+actionString(actions)+" "+strings.Join(changedAttributes(rc.Change), ", "))
		case !actions.NoOp():
			changed = append(changed, name+" "+actionString(actions))
		}
	}
	return lost, moved, changed
}

// changedAttributes names the top-level attributes an update changes (or leaves unknown).
func changedAttributes(c *tfjson.Change) []string {
	before, _ := c.Before.(map[string]any)
	after, _ := c.After.(map[string]any)
	unknown, _ := c.AfterUnknown.(map[string]any)
	var names []string
	for k, a := range after {
		b, _ := json.Marshal(before[k])
		x, _ := json.Marshal(a)
		if !bytes.Equal(b, x) || unknown[k] == true {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

func actionString(a tfjson.Actions) string {
	s := make([]string, len(a))
	for i, x := range a {
		s[i] = string(x)
	}
	return "(" + strings.Join(s, ", ") + ")"
}

func TestUpgradeChanges(t *testing.T) {
	rc := func(addr, prev string, actions ...tfjson.Action) *tfjson.ResourceChange {
		return &tfjson.ResourceChange{Address: addr, PreviousAddress: prev, Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{Actions: actions}}
	}
	plan := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{
		rc("aws_s3_bucket.dist", "module.syncer.aws_s3_bucket.dist", tfjson.ActionNoop),
		rc("module.a.aws_sqs_queue.q", "", tfjson.ActionDelete, tfjson.ActionCreate),
		rc("module.a.aws_sqs_queue.r", "", tfjson.ActionCreate, tfjson.ActionDelete),
		rc("module.a.aws_iam_role.gone", "", tfjson.ActionDelete),
		{Address: "module.a.aws_lambda_function.f", Mode: tfjson.ManagedResourceMode, Change: &tfjson.Change{
			Actions:      tfjson.Actions{tfjson.ActionUpdate},
			Before:       map[string]any{"timeout": 10, "role": "r", "environment": []any{map[string]any{"A": "1"}}},
			After:        map[string]any{"timeout": 20, "role": "r", "environment": []any{map[string]any{"A": "1"}}, "qualified_arn": nil},
			AfterUnknown: map[string]any{"qualified_arn": true},
		}},
		rc("module.a.aws_sqs_queue.new", "", tfjson.ActionCreate),
		{Address: "data.aws_region.current", Mode: tfjson.DataResourceMode, Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionRead}}},
	}}
	lost, moved, changed := upgradeChanges(plan)
	if want := []string{"module.a.aws_sqs_queue.q (delete, create)", "module.a.aws_sqs_queue.r (create, delete)", "module.a.aws_iam_role.gone (delete)"}; !slices.Equal(lost, want) {
		t.Errorf("lost %q, want %q", lost, want)
	}
	if want := []string{"module.syncer.aws_s3_bucket.dist → aws_s3_bucket.dist"}; !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
	if want := []string{"module.a.aws_lambda_function.f (update) qualified_arn, timeout", "module.a.aws_sqs_queue.new (create)"}; !slices.Equal(changed, want) {
		t.Errorf("changed %q, want %q", changed, want)
	}
}

// localVars are examples/local's inputs against the emulator at endpoint, with the function
// zips in dist and a warm pool (so every function is deployed).
func localVars(endpoint, dist string) map[string]any {
	return map[string]any{
		"prefix":                testPrefix,
		"aws_endpoint":          endpoint,
		"github_api_url":        testAPIURL,
		"github_app_id":         testAppID,
		"github_app_key_base64": base64.StdEncoding.EncodeToString([]byte(testPEM())),
		"webhook_secret":        testSecret,
		"dist_dir":              dist,
		"lambda_architecture":   "arm64",
		"pool_size":             1,
	}
}

// extractTree writes the given paths of commit into dir, as `git archive` gives them.
func extractTree(t *testing.T, repo, commit, dir string, paths ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", repo, "archive", "--format=tar", commit}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git archive %s: %v: %s (the test needs the repository's history: fetch it, e.g. git fetch --unshallow)", commit[:7], err, stderr.String())
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			var b []byte
			if b, err = io.ReadAll(tr); err == nil {
				err = os.MkdirAll(filepath.Dir(path), 0o755)
			}
			if err == nil {
				err = os.WriteFile(path, b, os.FileMode(h.Mode)&0o777)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
