#!/usr/bin/env bash
# ghr instance bootstrap: from boot to a running GitHub Actions runner. user-data.sh.tftpl
# writes it to /opt/ghr/start-runner.sh and runs it as root with GHR_* exported. Steps,
# environment, token formats and image needs: docs/runner-boot.md (kept out of here: EC2
# caps user data at 16 KiB).
set -euo pipefail
umask 022

# Limits, named so their reasons stay next to them.
readonly IMDS_MAX_TIME=5         # IMDS answers in milliseconds; a hung call must not stall boot
readonly IMDS_RETRIES=5          # IMDS can refuse connections for a moment very early in boot
readonly IMDS_TOKEN_TTL=21600    # one token serves the whole bootstrap (max allowed by IMDSv2)
readonly TOKEN_POLL_MAX=5        # poll SSM at most every 5 s: the token is nearly always there on the first read, and thousands of booting instances must stay under SSM's TPS limit
readonly DELETE_ATTEMPTS=3       # SSM throttling is transient; anything longer is a real fault

root=${GHR_ROOT:-}
metadata_url=${GHR_METADATA_URL:?}
expected_environment=${GHR_ENVIRONMENT:?}
expected_config=${GHR_RUNNER_CONFIG:?}
dist_bucket=${GHR_DIST_BUCKET:?}
runner_user=${GHR_RUNNER_USER:?}
runner_dir=$root${GHR_RUNNER_DIR:?}
token_wait_timeout=${GHR_TOKEN_WAIT_TIMEOUT:?}
shutdown_delay=${GHR_SHUTDOWN_DELAY:-0}
cloudwatch_parameter=${GHR_CLOUDWATCH_CONFIG_PARAMETER:-}
install_software=${GHR_INSTALL_SOFTWARE:-}
hook_dir=${GHR_HOOK_DIR:-$root/opt/ghr}
t0=${GHR_T0:-$EPOCHREALTIME}

scratch=
keep_instance=0 # set only when a persistent runner service owns the instance from then on

# Logs go to stderr so command substitutions never swallow them; user data sends both
# streams to the console and /var/log/ghr-bootstrap.log.
log() { TZ=UTC printf '%(%Y-%m-%dT%H:%M:%SZ)T ghr-bootstrap: %s\n' -1 "$*" >&2; }
die() {
	log "fatal: $*"
	exit 1
}

# elapsed_ms prints milliseconds since $1 (an $EPOCHREALTIME value; locales may use a comma).
elapsed_ms() {
	local now=${EPOCHREALTIME//[!0-9]/} then=${1//[!0-9]/}
	echo $(((now - then) / 1000))
}

# phase lines are the boot phases of the sandbox's demo report.
phase() {
	log "boot phase $1 at $(elapsed_ms "$t0")ms${2:+ ($2)}"
}

power_off() {
	log "powering off in ${shutdown_delay}s"
	sleep "$shutdown_delay" # lets the CloudWatch agent ship the last lines
	shutdown -h now
}

finish() {
	local rc=$?
	trap - EXIT
	rm -rf "$scratch"
	if ((keep_instance && rc == 0)); then
		exit 0
	fi
	((rc == 0)) || log "bootstrap failed (status $rc)"
	power_off || log "shutdown failed"
	exit "$rc"
}
trap finish EXIT
trap 'die "interrupted"' INT TERM

[[ $token_wait_timeout =~ ^[0-9]+$ ]] || die "GHR_TOKEN_WAIT_TIMEOUT=$token_wait_timeout: want whole seconds"
[[ $shutdown_delay =~ ^[0-9]+$ ]] || die "GHR_SHUTDOWN_DELAY=$shutdown_delay: want whole seconds"
[[ $runner_user != root ]] || die "the runner must not run as root: set runner_user to another user"
[[ $runner_user =~ ^[a-z_][a-z0-9_-]*$ ]] || die "runner user $runner_user is not a valid user name"

start_cloudwatch_agent() {
	[[ -n $cloudwatch_parameter ]] || return 0
	if ! command -v amazon-cloudwatch-agent-ctl >/dev/null; then
		log "warning: CloudWatch config $cloudwatch_parameter given but amazon-cloudwatch-agent-ctl is not installed"
		return 0
	fi
	# Logs matter less than the job: a runner without its agent still runs (the console keeps
	# the boot log), so a failure here only warns.
	amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "ssm:$cloudwatch_parameter" ||
		log "warning: the CloudWatch agent did not start with $cloudwatch_parameter: this instance's logs stay on it"
}

# install_packages installs what jobs expect, only what the image lacks (docs/prebuilt-ami.md).
install_packages() {
	local pkg cmd missing=()
	for pkg in $install_software; do
		case $pkg in
		docker | git | jq) cmd=$pkg ;;
		amazon-cloudwatch-agent) cmd=amazon-cloudwatch-agent-ctl ;;
		*) die "GHR_INSTALL_SOFTWARE: unknown package $pkg" ;;
		esac
		command -v "$cmd" >/dev/null || missing+=("$pkg")
	done
	((${#missing[@]} > 0)) || return 0
	log "installing ${missing[*]}"
	if command -v dnf >/dev/null; then
		dnf install -y "${missing[@]}" || die "dnf could not install ${missing[*]}"
		return 0
	fi
	command -v apt-get >/dev/null || die "no dnf or apt-get to install ${missing[*]}"
	local apt=()
	for pkg in "${missing[@]}"; do
		case $pkg in
		docker) apt+=(docker.io) ;;
		amazon-cloudwatch-agent) log "warning: amazon-cloudwatch-agent is not in apt: use a prebuilt image to ship logs" ;;
		*) apt+=("$pkg") ;;
		esac
	done
	((${#apt[@]} == 0)) || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${apt[@]}"; } ||
		die "apt-get could not install ${apt[*]}"
}

# enable_docker starts Docker and lets the runner user use it (jobs run as that user).
enable_docker() {
	[[ " $install_software " == *" docker "* ]] || return 0
	systemctl enable --now docker || die "docker did not start"
	if ! id -nG "$runner_user" | tr ' ' '\n' | grep -qx docker; then
		usermod -aG docker "$runner_user" || die "could not add $runner_user to the docker group"
	fi
}

# metadata_keys are read in one curl run over one connection: a process start per key would
# cost more than the requests themselves.
metadata_keys=(instance-id placement/region tags/instance/ghr:environment tags/instance/ghr:runner-config
	tags/instance/ghr:type tags/instance/ghr:owner tags/instance/ghr:job-id tags/instance/ghr:created-by)
declare -A metadata=()

read_metadata() {
	local imds_token key codes=() args=() i
	imds_token=$(curl -fsS -X PUT --max-time "$IMDS_MAX_TIME" --retry "$IMDS_RETRIES" --retry-connrefused \
		--retry-delay 1 -H "X-aws-ec2-metadata-token-ttl-seconds: $IMDS_TOKEN_TTL" \
		"$metadata_url/latest/api/token") || die "instance metadata: no IMDSv2 token"
	for i in "${!metadata_keys[@]}"; do
		args+=(-o "$scratch/md$i" "$metadata_url/latest/meta-data/${metadata_keys[i]}")
	done
	mapfile -t codes < <(curl -sS --max-time "$IMDS_MAX_TIME" --retry "$IMDS_RETRIES" --retry-connrefused \
		--retry-delay 1 -H "X-aws-ec2-metadata-token: $imds_token" -w '%{http_code}\n' "${args[@]}" ||
		echo failed)
	for i in "${!metadata_keys[@]}"; do
		key=${metadata_keys[i]}
		case ${codes[i]:-none} in
		200) metadata[$key]=$(<"$scratch/md$i") ;;
		404) [[ $key == tags/* ]] || die "instance metadata: no $key" ;; # tags may be disabled
		*) die "instance metadata: $key: ${codes[i]:-no answer}" ;;
		esac
	done
	instance_id=${metadata[instance-id]}
	export AWS_DEFAULT_REGION=${metadata[placement/region]}
	check_tag ghr:environment "$expected_environment"
	check_tag ghr:runner-config "$expected_config"
	token_path="/$expected_environment/runners/$expected_config/tokens/$instance_id"
	local about=
	for key in ghr:type ghr:owner ghr:job-id ghr:created-by; do
		[[ -z ${metadata[tags/instance/$key]:-} ]] || about+=" $key=${metadata[tags/instance/$key]}"
	done
	log "instance $instance_id in $AWS_DEFAULT_REGION, runner config $expected_config:$about"
}

# check_tag accepts a missing tag (the template's value stands) but not a different one: that
# would mean the instance was launched with another runner config's launch template.
check_tag() {
	local value=${metadata[tags/instance/$1]:-}
	if [[ -n $value && $value != "$2" ]]; then
		die "tag $1=$value but this launch template belongs to $2"
	fi
}

run_hook() {
	local hook="$hook_dir/$1.sh"
	[[ -f $hook ]] || return 0
	log "running $1 hook"
	bash "$hook" || die "$1 hook failed"
}

install_runner() {
	if [[ -x $runner_dir/config.sh ]]; then
		log "runner preinstalled in $runner_dir (prebuilt image): no download"
		return 0
	fi
	local arch t
	case $(uname -m) in
	x86_64 | amd64) arch=x64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "unsupported architecture $(uname -m)" ;;
	esac
	local key="actions-runner-linux-$arch.tar.gz"
	t=$EPOCHREALTIME
	mkdir -p "$runner_dir"
	# Streamed straight into tar: no temporary copy, and unpacking overlaps the download.
	aws s3 cp --only-show-errors "s3://$dist_bucket/$key" - | tar -xz -C "$runner_dir" ||
		die "could not get the runner from s3://$dist_bucket/$key"
	log "runner downloaded and unpacked in $(elapsed_ms "$t")ms"
	if [[ -x $runner_dir/bin/installdependencies.sh ]]; then
		"$runner_dir/bin/installdependencies.sh" || die "runner dependencies did not install"
	fi
}

ensure_user() {
	local entry
	if ! entry=$(getent passwd "$runner_user"); then
		useradd --create-home --user-group --shell /bin/bash "$runner_user" || die "could not create user $runner_user"
		entry=$(getent passwd "$runner_user") || die "user $runner_user missing after useradd"
	fi
	entry=${entry%:*}          # name:x:uid:gid:gecos:home (shell dropped)
	runner_home=${entry##*:}
	chown -R "$runner_user:" "$runner_dir"
}

# wait_for_token sets token to the parameter's value. It polls with a growing interval and
# gives up after token_wait_timeout seconds, so an instance whose launch failed half-way
# never idles forever.
wait_for_token() {
	local deadline=$((SECONDS + token_wait_timeout)) delay=1 remaining
	log "waiting up to ${token_wait_timeout}s for the runner token at $token_path"
	until token=$(aws ssm get-parameter --name "$token_path" --with-decryption \
		--query Parameter.Value --output text 2>"$scratch/ssm.err"); do
		remaining=$((deadline - SECONDS))
		if ((remaining <= 0)); then
			log "last SSM error: $(tail -n 1 "$scratch/ssm.err")"
			die "no runner token at $token_path after ${token_wait_timeout}s"
		fi
		sleep $((delay < remaining ? delay : remaining))
		delay=$((delay * 2 > TOKEN_POLL_MAX ? TOKEN_POLL_MAX : delay * 2))
	done
	[[ -n $token ]] || die "runner token at $token_path is empty"
	local attempt
	for ((attempt = 1; ; attempt++)); do
		if aws ssm delete-parameter --name "$token_path" 2>"$scratch/ssm.err"; then
			log "runner token read and deleted"
			break
		fi
		if ((attempt >= DELETE_ATTEMPTS)); then
			# The token works once (a JIT config connects once) and scale-down removes stale
			# token parameters: losing the instance over a leftover parameter helps no one.
			log "warning: runner token read but not deleted from $token_path: $(tail -n 1 "$scratch/ssm.err")"
			break
		fi
		sleep "$attempt"
	done
}

# parse_registration reads a ghr-registration-v1 document (docs/runner-token.md) from token.
parse_registration() {
	local line key value n=0
	reg_url='' reg_token='' reg_name='' reg_labels='' reg_group='' reg_ephemeral=false
	while IFS= read -r line || [[ -n $line ]]; do
		n=$((n + 1))
		if ((n == 1)); then
			[[ $line == ghr-registration-v1 ]] || die "runner token: unknown format"
			continue
		fi
		[[ -n $line ]] || continue
		[[ $line == *=* ]] || die "runner token: line $n is not key=value"
		key=${line%%=*} value=${line#*=}
		case $key in
		url) reg_url=$value ;;
		token) reg_token=$value ;;
		name) reg_name=$value ;;
		labels) reg_labels=$value ;;
		runner_group) reg_group=$value ;;
		ephemeral)
			[[ $value == true || $value == false ]] || die "runner token: ephemeral=$value: want true or false"
			reg_ephemeral=$value
			;;
		*) die "runner token: unknown key $key on line $n" ;;
		esac
	done < <(printf '%s\n' "$token")
	[[ -n $reg_url && -n $reg_token && -n $reg_name ]] || die "runner token: url, token and name are required"
}

as_runner() {
	runuser -u "$runner_user" -- env -i HOME="$runner_home" USER="$runner_user" LOGNAME="$runner_user" \
		PATH="$PATH" LANG="${LANG:-C.UTF-8}" "$@"
}

run_ephemeral() {
	local rc=0
	log "runner starting after $(elapsed_ms "$t0")ms of bootstrap"
	as_runner ./run.sh "$@" || rc=$?
	log "ephemeral runner exited with status $rc"
}

start_runner() {
	cd "$runner_dir"
	if [[ $token =~ ^[A-Za-z0-9+/]+=*$ ]]; then
		run_ephemeral --jitconfig "$token"
		return 0
	fi
	parse_registration
	local args=(--unattended --url "$reg_url" --token "$reg_token" --name "$reg_name")
	# A runner's labels are exactly its config's (as a JIT runner's are): with config.sh's
	# defaults added, a persistent runner would also take jobs meant for another config.
	[[ -z $reg_labels ]] || args+=(--no-default-labels --labels "$reg_labels")
	[[ -z $reg_group ]] || args+=(--runnergroup "$reg_group")
	[[ $reg_ephemeral == false ]] || args+=(--ephemeral)
	as_runner ./config.sh "${args[@]}" || die "config.sh failed"
	if [[ $reg_ephemeral == true ]]; then
		run_ephemeral
		return 0
	fi
	./svc.sh install "$runner_user" || die "svc.sh install failed"
	./svc.sh start || die "svc.sh start failed"
	keep_instance=1
	log "persistent runner $reg_name started as a service after $(elapsed_ms "$t0")ms of bootstrap"
}

scratch=$(mktemp -d)
read_metadata
phase imds "user data started at ${t0/,/.}"
install_packages
start_cloudwatch_agent
run_hook pre-install
install_runner
phase download
ensure_user
enable_docker
run_hook post-install
wait_for_token
phase token
start_runner
