package bootstraptest

// The stubs below replace the system commands the bootstrap calls. @STATE@ is replaced by the
// host's state directory: the runner's scripts run under `env -i`, so they cannot be told
// where it is through the environment. Every stub records its call through record.sh.

// recordSh appends one call: NUL-separated argv in NNNN.args and what the callee saw in
// NNNN.env. The bootstrap runs commands one at a time, so a count of files orders them.
const recordSh = `record() {
	local dir=@STATE@/calls n seen
	shopt -s nullglob
	seen=("$dir"/*.args)
	printf -v n '%04d' "${#seen[@]}"
	printf '%s\0' "$@" >"$dir/$n.args"
	printf 'region=%s\nhome=%s\nuser=%s\npwd=%s\nt=%s\n' "${AWS_DEFAULT_REGION:-}" "${HOME:-}" \
		"${USER:-}" "$PWD" "$EPOCHREALTIME" >"$dir/$n.env"
}
`

// awsStub plays the aws CLI v2 calls the bootstrap makes, with SSM parameters and S3 objects
// kept as files, and exits 254 with the CLI's error text as the real one does.
const awsStub = `#!/usr/bin/env bash
set -euo pipefail
state=@STATE@
. "$state/record.sh"
record aws "$@"
svc=$1 op=$2
shift 2
name= out=json query= quiet=0 pos=()
while (($#)); do
	case $1 in
	--name) name=$2; shift 2 ;;
	--query) query=$2; shift 2 ;;
	--output) out=$2; shift 2 ;;
	--with-decryption) shift ;;
	--only-show-errors) quiet=1; shift ;;
	--*) echo "aws stub: unexpected option $1" >&2; exit 2 ;;
	*) pos+=("$1"); shift ;;
	esac
done
case "$svc $op" in
"ssm get-parameter")
	[[ $query == Parameter.Value && $out == text ]] || { echo "aws stub: want --query Parameter.Value --output text" >&2; exit 2; }
	f=$state/ssm$name
	if [[ -f $f ]]; then
		cat "$f"
		echo
		exit 0
	fi
	echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2
	exit 254
	;;
"ssm delete-parameter")
	if [[ -e $state/fail/ssm-delete ]]; then
		echo "An error occurred (AccessDeniedException) when calling the DeleteParameter operation: not authorized" >&2
		exit 254
	fi
	f=$state/ssm$name
	[[ -f $f ]] || { echo "An error occurred (ParameterNotFound) when calling the DeleteParameter operation: " >&2; exit 254; }
	rm "$f"
	;;
"s3 cp")
	[[ ${#pos[@]} -eq 2 && ${pos[1]} == - && $quiet == 1 ]] || { echo "aws stub: want s3 cp --only-show-errors s3://B/K -" >&2; exit 2; }
	f=$state/s3/${pos[0]#s3://}
	[[ -f $f ]] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key does not exist" >&2; exit 1; }
	cat "$f"
	;;
*)
	echo "aws stub: unexpected command $svc $op" >&2
	exit 2
	;;
esac
`

// recorderStub records and succeeds: shutdown, chown, the CloudWatch agent's control script.
const recorderStub = `#!/usr/bin/env bash
. @STATE@/record.sh
record "${0##*/}" "$@"
`

// sleepStub records each wait and sleeps a tenth of it: the script's backoffs keep their
// order and their recorded lengths (tests assert them) at a tenth of the wall time. Its
// deadlines use bash's $SECONDS, which stays real.
const sleepStub = `#!/usr/bin/env bash
. @STATE@/record.sh
record sleep "$@"
exec /bin/sleep "$(awk -v s="$1" 'BEGIN { printf "%.3f", s / 10 }')"
`

// useraddStub adds the user to the fake passwd that getentStub reads.
const useraddStub = `#!/usr/bin/env bash
set -euo pipefail
. @STATE@/record.sh
record useradd "$@"
user=${*: -1}
printf '%s:x:1001:1001::/home/%s:/bin/bash\n' "$user" "$user" >>@STATE@/passwd
`

const getentStub = `#!/usr/bin/env bash
[[ $1 == passwd ]] || exit 2
grep -m1 "^$2:" @STATE@/passwd 2>/dev/null || exit 2
`

// runuserStub checks the form the bootstrap uses, records the user and runs the command as
// the test's own user (tests cannot switch users).
const runuserStub = `#!/usr/bin/env bash
set -euo pipefail
. @STATE@/record.sh
record runuser "$@"
[[ $1 == -u && $3 == -- ]] || { echo "runuser stub: want -u USER -- CMD" >&2; exit 2; }
shift 3
exec "$@"
`

// runnerStub is config.sh, run.sh, svc.sh and bin/installdependencies.sh of the stub runner.
// A file fail/<name> makes it fail; run.sh exits with the number in run.exit, if any.
const runnerStub = `#!/usr/bin/env bash
. @STATE@/record.sh
name=${0##*/}
record "$name" "$@"
[[ ! -e @STATE@/fail/$name ]] || exit 1
if [[ $name == run.sh && -f @STATE@/run.exit ]]; then
	exit "$(cat @STATE@/run.exit)"
fi
`
