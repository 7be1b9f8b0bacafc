// Package tfmodule checks the Terraform module (terraform/) and its examples: formatting,
// validation, plan-time rules (terraform test), a real apply and destroy of examples/local
// against moto_server, and the environment contract between the module and internal/config.
// It also reads a module's variables and outputs (cmd/tfdocs renders them into the README).
package tfmodule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Provider installation: from a filesystem mirror when one is configured ($GHR_TF_MIRROR, or
// the directory where this project's offline CI machines keep hashicorp/aws unpacked), from
// the registry otherwise.
const (
	MirrorEnv     = "GHR_TF_MIRROR"
	defaultMirror = "/opt/tf-plugins"
)

// Mirror returns the provider mirror to install from, or "" for the registry.
func Mirror() string {
	if v := os.Getenv(MirrorEnv); v != "" {
		return v
	}
	if st, err := os.Stat(defaultMirror); err == nil && st.IsDir() {
		return defaultMirror
	}
	return ""
}

// InstallHint tells a developer how to get what these checks need.
const InstallHint = "terraform is needed: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install); " +
	"the hashicorp/aws provider comes from the registry, or from a filesystem mirror named by $" + MirrorEnv + " (scripts/check-tools.sh checks both)"

// cliConfig points provider installation at the mirror only.
const cliConfig = `provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
`

// CLIConfig is the Terraform CLI configuration (TF_CLI_CONFIG_FILE) that installs providers
// from Mirror(), or "" (the registry) without one.
func CLIConfig() string {
	if m := Mirror(); m != "" {
		return fmt.Sprintf(cliConfig, m)
	}
	return ""
}

// Root finds the repository root (the directory holding go.mod) from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// ConfigDirs lists every Terraform configuration of the repository, relative to root: the
// module, its submodules and the examples.
func ConfigDirs(root string) ([]string, error) {
	var dirs []string
	for _, pattern := range []string{"terraform", "terraform/modules/*", "examples/*"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			tf, _ := filepath.Glob(filepath.Join(m, "*.tf"))
			if len(tf) == 0 {
				continue // e.g. modules/runners/templates
			}
			rel, err := filepath.Rel(root, m)
			if err != nil {
				return nil, err
			}
			dirs = append(dirs, rel)
		}
	}
	sort.Strings(dirs)
	return dirs, nil
}

// Workspace runs terraform in one configuration directory with its plugins, data and CLI
// configuration kept in a private directory, so the repository stays clean and runs never
// share state.
type Workspace struct {
	TF      *tfexec.Terraform
	Dir     string
	DataDir string
}

// NewWorkspace prepares dir with private data under dataDir and runs init from the provider
// mirror (without a backend, so state stays where -state says).
func NewWorkspace(ctx context.Context, dir, dataDir string) (*Workspace, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, errors.New(InstallHint)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	mirror := Mirror()
	rc := filepath.Join(dataDir, "terraformrc")
	if err := os.WriteFile(rc, []byte(CLIConfig()), 0o644); err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(dir, bin)
	if err != nil {
		return nil, fmt.Errorf("terraform in %s: %w", dir, err)
	}
	env := map[string]string{
		"TF_CLI_CONFIG_FILE": rc,
		"TF_DATA_DIR":        filepath.Join(dataDir, ".terraform"),
		"CHECKPOINT_DISABLE": "1",
	}
	for _, k := range []string{"HOME", "PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if err := tf.SetEnv(env); err != nil {
		return nil, err
	}
	opts := []tfexec.InitOption{tfexec.Backend(false)}
	if mirror != "" {
		opts = append(opts, tfexec.PluginDir(mirror))
	}
	if err := tf.Init(ctx, opts...); err != nil {
		return nil, fmt.Errorf("terraform init in %s: %w", dir, err)
	}
	return &Workspace{TF: tf, Dir: dir, DataDir: dataDir}, nil
}
