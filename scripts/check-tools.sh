#!/usr/bin/env bash
# Checks, and where it can installs, every tool the tests need. Idempotent and quiet when all
# is present. Only the Go module proxy, Debian packages and the npm registry are assumed
# reachable; moto comes from pip (a local wheel directory is used when there is one).
set -euo pipefail

need() { echo "check-tools: $*" >&2; exit 1; }
apt_install() {
	if [ "$(id -u)" -ne 0 ]; then need "$1 missing: install the Debian package '$1' (sudo apt-get install $1)"; fi
	echo "check-tools: installing $1 (apt)" >&2
	apt-get update -qq >/dev/null || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}

command -v go >/dev/null || need "go missing: install Go 1.24 or newer"

if ! command -v moto_server >/dev/null; then
	echo "check-tools: installing moto[server]==5.2.1 (pip)" >&2
	pip_args=()
	[ -d /opt/wheels ] && pip_args+=(--find-links /opt/wheels)
	python3 -m pip install -q "${pip_args[@]}" 'moto[server]==5.2.1' ||
		need "moto_server missing and pip could not install it: pip install 'moto[server]==5.2.1'"
	hash -r
	command -v moto_server >/dev/null || need "moto_server still not on PATH after pip install"
fi

command -v shellcheck >/dev/null || apt_install shellcheck
# docs/getting-started.md's commands run against the sandbox (cmd/ghr TestGettingStartedOnTheSandbox):
# the aws CLI (1.29 or newer honours AWS_ENDPOINT_URL), openssl and sha256sum.
if ! command -v aws >/dev/null; then
	echo "check-tools: installing awscli (pip)" >&2
	python3 -m pip install -q 'awscli>=1.29' || need "aws CLI missing and pip could not install it: pip install 'awscli>=1.29'"
	hash -r
fi
command -v openssl >/dev/null || apt_install openssl
command -v zip >/dev/null || true # not needed: dist zips are written by cmd/reprozip

# Terraform checks (internal/harness/tfmodule, scripts/terraform-checks.sh) and the sandbox. The
# hashicorp/aws provider comes from a filesystem mirror when one is configured ($GHR_TF_MIRROR,
# or the directory offline CI machines keep it in; internal/harness/tfmodule.Mirror) and from the
# registry otherwise, as `terraform init` does for any user.
command -v terraform >/dev/null ||
	need "terraform missing: install Terraform 1.11 (https://developer.hashicorp.com/terraform/install)"
tf_mirror="${GHR_TF_MIRROR:-}"
if [ -z "$tf_mirror" ] && [ -d /opt/tf-plugins ]; then tf_mirror=/opt/tf-plugins; fi
if [ -n "$tf_mirror" ]; then
	compgen -G "$tf_mirror/registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*" >/dev/null ||
		need "hashicorp/aws provider missing from the mirror $tf_mirror: on a machine with registry access run 'terraform providers mirror $tf_mirror' in terraform/, or unset GHR_TF_MIRROR to use the registry"
else
	probe="$(mktemp -d)"
	trap 'rm -rf "$probe"' EXIT
	printf 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = ">= 5.40" }\n  }\n}\n' >"$probe/main.tf"
	TF_DATA_DIR="$probe/.terraform" terraform -chdir="$probe" init -backend=false -input=false >/dev/null 2>&1 ||
		need "terraform could not install hashicorp/aws from the registry: check network access, or set GHR_TF_MIRROR to a filesystem mirror (terraform providers mirror DIR)"
fi
tfsec_bin="$(go env GOPATH)/bin/tfsec"
if ! command -v tfsec >/dev/null && [ ! -x "$tfsec_bin" ]; then
	echo "check-tools: installing tfsec v1.26.0 (go install)" >&2
	go install github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0 ||
		need "tfsec missing and go install failed: go install github.com/aquasecurity/tfsec/cmd/tfsec@v1.26.0"
fi
# The sandbox's IAM evaluator (internal/harness/iameval): @cloud-copilot/iam-simulate, pinned by
# its package-lock.json and installed from the npm registry with npm ci. The sandbox refuses to
# run without it, so a missing Node is an error here, never a skipped check.
iameval="$(dirname "$0")/../internal/harness/iameval"
command -v node >/dev/null || apt_install nodejs
command -v npm >/dev/null || apt_install npm
lock_sum="$(sha256sum "$iameval/package-lock.json" | cut -d' ' -f1)"
if [ "$(cat "$iameval/node_modules/.ghr-lock.sha256" 2>/dev/null)" != "$lock_sum" ]; then
	echo "check-tools: installing the IAM evaluator (npm ci in $iameval)" >&2
	(cd "$iameval" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
		need "npm ci failed in $iameval: the npm registry must be reachable (npm config get registry)"
	echo "$lock_sum" >"$iameval/node_modules/.ghr-lock.sha256"
fi
exit 0
