package simrunner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ServiceAddr is where a sandbox host reaches GitHub's runner-facing services. A host is a
// network namespace whose only routes are the ones the sandbox forwards, and start-runner.sh
// runs the runner with a cleared environment, so the address is fixed here; ServiceEnv
// overrides it for runs outside a host (tests).
const (
	ServiceAddr = "127.0.0.1:4180"
	ServiceEnv  = "GHR_SIMRUNNER_SERVICE"
)

// Runner timing.
const (
	jobPollWait   = 20 * time.Second // one job long poll; the service answers 204 after it
	requestTimout = 10 * time.Second // any other call to the service
	jobPollSlack  = 5 * time.Second  // a poll's client timeout beyond the server's wait
)

// Exit codes of Runner.Listener (run.sh passes them on).
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// runnerFile is the .runner file: the real one's keys, so tools reading it work.
type runnerFile struct {
	AgentID       int64  `json:"AgentId"`
	AgentName     string `json:"AgentName"`
	PoolID        int64  `json:"PoolId"`
	ServerURL     string `json:"ServerUrl"`
	GitHubURL     string `json:"GitHubUrl"`
	WorkFolder    string `json:"WorkFolder"`
	Ephemeral     bool   `json:"Ephemeral"`
	DisableUpdate bool   `json:"DisableUpdate,omitempty"`
}

type credentialsFile struct {
	Scheme string `json:"Scheme"`
	Data   struct {
		ClientID         string `json:"ClientId"`
		AuthorizationURL string `json:"AuthorizationUrl,omitempty"`
	} `json:"Data"`
}

// Listener is bin/Runner.Listener.
type Listener struct {
	Dir     string // the runner directory (config.sh's)
	Service string // base URL of the runner service
	Stdin   io.Reader
	Out     io.Writer
	HTTP    *http.Client
}

// Main runs a Runner.Listener command line and returns its exit code.
func (l *Listener) Main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(l.Out, "usage: Runner.Listener configure|run|remove [options]")
		return exitUsage
	}
	var err error
	switch args[0] {
	case "configure":
		err = l.configure(ctx, args[1:])
	case "run":
		err = l.run(ctx, args[1:])
	case "remove":
		err = l.remove(args[1:])
	default:
		err = usageError(fmt.Errorf("unknown command %q", args[0]))
	}
	if err == nil {
		return exitOK
	}
	l.say("Error: %v", err)
	var ue usageErr
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailed
}

type usageErr struct{ error }

func usageError(err error) error { return usageErr{err} }

func (l *Listener) say(format string, a ...any) {
	fmt.Fprintf(l.Out, "%s: %s\n", time.Now().UTC().Format("2006-01-02 15:04:05.000Z"), fmt.Sprintf(format, a...))
}

func (l *Listener) configure(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("configure", flag.ContinueOnError)
	fs.SetOutput(l.Out)
	url := fs.String("url", "", "repository, organization or enterprise URL")
	token := fs.String("token", "", "registration token")
	name := fs.String("name", "", "runner name (default: the host name)")
	labels := fs.String("labels", "", "extra labels, comma-separated")
	noDefault := fs.Bool("no-default-labels", false, "do not add self-hosted, Linux and the architecture")
	group := fs.String("runnergroup", "", "runner group (default: Default)")
	work := fs.String("work", "_work", "work folder")
	ephemeral := fs.Bool("ephemeral", false, "take one job, then be removed")
	unattended := fs.Bool("unattended", false, "never prompt")
	disableUpdate := fs.Bool("disableupdate", false, "never self-update")
	replace := fs.Bool("replace", false, "replace a runner of the same name")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unrecognized arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if _, err := os.Stat(filepath.Join(l.Dir, ".runner")); err == nil {
		return errors.New("cannot configure the runner because it is already configured: run './config.sh remove' first")
	}
	in := bufio.NewReader(l.Stdin)
	for _, p := range []struct {
		v      *string
		prompt string
	}{{url, "Enter the URL of your repository, organization or enterprise"}, {token, "Enter your runner registration token"}} {
		if *p.v != "" {
			continue
		}
		if *unattended {
			return usageError(fmt.Errorf("%s: required with --unattended", strings.ToLower(p.prompt)))
		}
		fmt.Fprintf(l.Out, "%s: ", p.prompt)
		line, err := in.ReadString('\n')
		if *p.v = strings.TrimSpace(line); *p.v == "" {
			return fmt.Errorf("%s: no answer: %v", p.prompt, err)
		}
	}
	if *name == "" {
		h, err := os.Hostname()
		if err != nil {
			return err
		}
		*name = h
	}
	req := RegisterRequest{URL: *url, Token: *token, Name: *name, NoDefaultLabels: *noDefault,
		RunnerGroup: *group, Ephemeral: *ephemeral, Replace: *replace}
	for _, lb := range strings.Split(*labels, ",") {
		if lb = strings.TrimSpace(lb); lb != "" {
			req.Labels = append(req.Labels, lb)
		}
	}
	var reg Registration
	if err := l.call(ctx, http.MethodPost, "/_runner/register", req, &reg, requestTimout); err != nil {
		return fmt.Errorf("register %s: %w", *name, err)
	}
	l.say("Runner successfully added (id %d, labels %s)", reg.AgentID, strings.Join(reg.Labels, ","))
	rf := runnerFile{AgentID: reg.AgentID, AgentName: reg.AgentName, PoolID: reg.PoolID, ServerURL: l.Service,
		GitHubURL: *url, WorkFolder: *work, Ephemeral: reg.Ephemeral, DisableUpdate: *disableUpdate}
	var cf credentialsFile
	cf.Scheme, cf.Data.ClientID = "OAuth", reg.ClientID
	if err := writeJSONFile(filepath.Join(l.Dir, ".runner"), rf, 0o644); err != nil {
		return err
	}
	if err := writeJSONFile(filepath.Join(l.Dir, ".credentials"), cf, 0o600); err != nil {
		return err
	}
	svc, err := os.ReadFile(filepath.Join(l.Dir, "bin", "svc.sh.template"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "svc.sh"), svc, 0o755); err != nil {
		return err
	}
	l.say("Settings Saved.")
	return nil
}

// remove forgets the local configuration (the registration itself is removed by whoever
// holds a removal token; the sandbox's scale-down does that through the API).
func (l *Listener) remove(args []string) error {
	if len(args) > 0 && args[0] != "--token" && args[0] != "--unattended" {
		return usageError(fmt.Errorf("unrecognized arguments: %s", strings.Join(args, " ")))
	}
	for _, f := range []string{".runner", ".credentials", "svc.sh"} {
		if err := os.Remove(filepath.Join(l.Dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	l.say("Runner removed locally")
	return nil
}

// identity is what run needs to open a session.
type identity struct {
	clientID  string
	name      string
	ephemeral bool
	jit       bool
}

func (l *Listener) run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(l.Out)
	jit := fs.String("jitconfig", "", "base64 JIT configuration from generate-jitconfig")
	once := fs.Bool("once", false, "take one job, then exit (deprecated; use --ephemeral)")
	_ = fs.String("startuptype", "", "service or manual")
	if err := fs.Parse(args); err != nil {
		return usageError(err)
	}
	var id identity
	var err error
	if *jit != "" {
		id, err = decodeJIT(*jit)
	} else {
		id, err = l.configured()
	}
	if err != nil {
		return err
	}
	var sess SessionInfo
	if err := l.call(ctx, http.MethodPost, "/_runner/sessions", SessionRequest{ClientID: id.clientID, JIT: id.jit}, &sess, requestTimout); err != nil {
		return fmt.Errorf("connect %s: %w", id.name, err)
	}
	l.say("Connected to GitHub")
	l.say("Listening for Jobs")
	stop := context.WithoutCancel(ctx)
	defer func() {
		// Stopped by a signal: end the session so GitHub sees the runner go offline now.
		if ctx.Err() != nil {
			_ = l.call(stop, http.MethodDelete, "/_runner/sessions/"+sess.SessionID, nil, nil, requestTimout)
		}
	}()
	for {
		var job JobMessage
		err := l.call(ctx, http.MethodGet, fmt.Sprintf("/_runner/sessions/%s/job?wait_ms=%d", sess.SessionID, jobPollWait.Milliseconds()),
			nil, &job, jobPollWait+jobPollSlack)
		var se *statusError
		switch {
		case errors.As(err, &se) && se.status == http.StatusGone:
			l.say("Runner registration has been deleted or the session ended")
			if sess.Ephemeral {
				return nil
			}
			return errors.New("runner registration deleted")
		case errors.Is(err, errNoContent):
			continue
		case err != nil:
			return err
		}
		if err := l.runJob(ctx, sess.SessionID, job); err != nil {
			return err
		}
		if sess.Ephemeral || *once {
			return nil
		}
	}
}

// runJob plays the job for its duration, renewing the session so the service knows the
// runner lives, then reports success.
func (l *Listener) runJob(ctx context.Context, sid string, job JobMessage) error {
	l.say("Running job: %s (job id %d, %s)", job.Name, job.JobID, job.Repo)
	end := time.NewTimer(time.Duration(job.DurationMS) * time.Millisecond)
	defer end.Stop()
	tick := time.NewTicker(RenewEvery)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-end.C:
			done = true
		case <-tick.C:
			if err := l.call(ctx, http.MethodPost, "/_runner/sessions/"+sid+"/renew", nil, nil, requestTimout); err != nil {
				return fmt.Errorf("job %d: lost the session: %w", job.JobID, err)
			}
		}
	}
	if err := l.call(ctx, http.MethodPost, "/_runner/sessions/"+sid+"/complete", CompleteRequest{Conclusion: ConclusionSuccess}, nil, requestTimout); err != nil {
		return fmt.Errorf("job %d: complete: %w", job.JobID, err)
	}
	l.say("Job %s completed with result: Succeeded", job.Name)
	return nil
}

func (l *Listener) configured() (identity, error) {
	var rf runnerFile
	var cf credentialsFile
	if err := readJSONFile(filepath.Join(l.Dir, ".runner"), &rf); err != nil {
		return identity{}, fmt.Errorf("not configured: run config.sh to configure the runner (%w)", err)
	}
	if err := readJSONFile(filepath.Join(l.Dir, ".credentials"), &cf); err != nil {
		return identity{}, fmt.Errorf("not configured: run config.sh to configure the runner (%w)", err)
	}
	return identity{clientID: cf.Data.ClientID, name: rf.AgentName, ephemeral: rf.Ephemeral}, nil
}

// decodeJIT reads GitHub's encoded_jit_config: base64 of a JSON object whose .runner,
// .credentials and .credentials_rsaparams members are each base64 of the file's JSON.
func decodeJIT(encoded string) (identity, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return identity{}, fmt.Errorf("jitconfig is not base64: %w", err)
	}
	var files map[string]string
	if err := json.Unmarshal(raw, &files); err != nil {
		return identity{}, fmt.Errorf("jitconfig: %w", err)
	}
	var rf runnerFile
	var cf credentialsFile
	for name, v := range map[string]any{".runner": &rf, ".credentials": &cf} {
		b, err := base64.StdEncoding.DecodeString(files[name])
		if err != nil {
			return identity{}, fmt.Errorf("jitconfig %s: %w", name, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return identity{}, fmt.Errorf("jitconfig %s: %w", name, err)
		}
	}
	if _, ok := files[".credentials_rsaparams"]; !ok {
		return identity{}, errors.New("jitconfig: no .credentials_rsaparams")
	}
	if cf.Data.ClientID == "" {
		return identity{}, errors.New("jitconfig: .credentials has no client id")
	}
	return identity{clientID: cf.Data.ClientID, name: rf.AgentName, ephemeral: true, jit: true}, nil
}

var errNoContent = errors.New("no content")

type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return fmt.Sprintf("runner service: %d %s", e.status, e.msg) }

func (l *Listener) call(ctx context.Context, method, path string, in, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(l.Service, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusNoContent && out != nil:
		return errNoContent
	case resp.StatusCode >= 300:
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return &statusError{status: resp.StatusCode, msg: e.Message}
	case out != nil:
		return json.Unmarshal(b, out)
	}
	return nil
}

func writeJSONFile(path string, v any, mode os.FileMode) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, mode)
}

func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
