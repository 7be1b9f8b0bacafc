package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/ghr-dev/ghr/internal/harness/tfmodule"
)

// ErrNoTerraform says how to get Terraform.
var ErrNoTerraform = errors.New("terraform not found on PATH: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install) or put it at /usr/local/bin/terraform")

// Terraform applies one configuration directory with its state and data kept in a private
// directory, so the repository's example stays clean and runs never share state.
type Terraform struct {
	tf      *tfexec.Terraform
	state   string
	varFile string
}

// NewTerraform prepares dir (e.g. examples/local) with state under dataDir and runs init.
func NewTerraform(ctx context.Context, dir, dataDir string, logs io.Writer) (*Terraform, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, ErrNoTerraform
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, fmt.Errorf("terraform: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	env := map[string]string{"TF_DATA_DIR": filepath.Join(dataDir, ".terraform"), "CHECKPOINT_DISABLE": "1"}
	for _, k := range []string{"HOME", "PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if err := tf.SetEnv(env); err != nil {
		return nil, err
	}
	if logs != nil {
		tf.SetStdout(logs)
		tf.SetStderr(logs)
	}
	var opts []tfexec.InitOption
	if mirror := tfmodule.Mirror(); mirror != "" {
		opts = append(opts, tfexec.PluginDir(mirror))
	}
	if err := tf.Init(ctx, opts...); err != nil {
		return nil, fmt.Errorf("terraform init in %s: %w", dir, err)
	}
	return &Terraform{tf: tf, state: filepath.Join(dataDir, "terraform.tfstate"), varFile: filepath.Join(dataDir, "sandbox.tfvars.json")}, nil
}

func (t *Terraform) writeVars(vars map[string]any) error {
	b, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(t.varFile, b, 0o600) // holds the simulator's App key
}

// Apply applies with vars (any JSON-encodable values).
func (t *Terraform) Apply(ctx context.Context, vars map[string]any) error {
	if err := t.writeVars(vars); err != nil {
		return err
	}
	//nolint:staticcheck // -state keeps the example directory free of state files
	if err := t.tf.Apply(ctx, tfexec.State(t.state), tfexec.VarFile(t.varFile), tfexec.Parallelism(20)); err != nil {
		return fmt.Errorf("terraform apply: %w", err)
	}
	return nil
}

// Resources counts the managed resource instances in the state.
func (t *Terraform) Resources() (int, error) {
	b, err := os.ReadFile(t.state)
	if err != nil {
		return 0, fmt.Errorf("terraform state: %w", err)
	}
	var st struct {
		Resources []struct {
			Mode      string            `json:"mode"`
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, fmt.Errorf("terraform state: %w", err)
	}
	n := 0
	for _, r := range st.Resources {
		if r.Mode == "managed" {
			n += len(r.Instances)
		}
	}
	return n, nil
}

// Destroy removes everything Apply created.
func (t *Terraform) Destroy(ctx context.Context) error {
	//nolint:staticcheck // see Apply
	if err := t.tf.Destroy(ctx, tfexec.State(t.state), tfexec.VarFile(t.varFile), tfexec.Parallelism(20)); err != nil {
		return fmt.Errorf("terraform destroy: %w", err)
	}
	return nil
}
