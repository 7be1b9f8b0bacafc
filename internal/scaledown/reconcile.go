package scaledown

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/tags"
)

// terminateReserve is the time a pass keeps back from its deadline for the one
// TerminateInstances call and the tag and token calls after the GitHub DELETEs: a runner
// whose registration is gone must not be left running because the Lambda timed out.
const terminateReserve = 20 * time.Second

// defaultRelistDelay is how long after the runner lists the instances are listed again when a
// ghost candidate appears. Scale-up registers a runner right after its instance launched, and
// EC2's instance list can lag a launch by seconds: a registration that new must find its
// instance, not be deleted as a ghost.
const defaultRelistDelay = 10 * time.Second

// Fleet is the EC2 side of a pass: this deployment's pending and running instances.
type Fleet interface {
	List(ctx context.Context) ([]Instance, error)
	Terminate(ctx context.Context, ids []string) error
	Tag(ctx context.Context, ids []string, key, value string) error
	Untag(ctx context.Context, ids []string, key string) error
	// Ended returns those of ids (at most 200) EC2 lists as shutting down, terminated or
	// stopped in this deployment.
	Ended(ctx context.Context, ids []string) ([]string, error)
}

// Registrations is the GitHub side of a pass.
type Registrations interface {
	OrgOwners(ctx context.Context) ([]Owner, error)
	ListRunners(ctx context.Context, owner Owner) ([]Runner, error)
	RemoveRunner(ctx context.Context, owner Owner, runnerID int64) (RemoveResult, error)
	// FindRunner looks one registration up by id (runnerID > 0) or by name; found is false
	// only on GitHub's answer that it does not exist.
	FindRunner(ctx context.Context, owner Owner, runnerID int64, name string) (r Runner, found bool, err error)
}

// Tokens is the SSM side of a pass: runner token parameters.
type Tokens interface {
	List(ctx context.Context) ([]Token, error)
	Delete(ctx context.Context, names []string) (deleted int, err error)
}

var _ Registrations = (*GitHub)(nil)

// Reconciler runs scheduled passes.
type Reconciler struct {
	Fleet            Fleet
	GitHub           Registrations
	Tokens           Tokens // nil skips token clean-up
	Configs          []config.RunnerConfig
	RunnerNamePrefix string
	Log              *slog.Logger
	Now              func() time.Time  // nil means time.Now
	RelistDelay      time.Duration     // 0 means defaultRelistDelay; tests shorten it
	Metrics          *metrics.Recorder // nil records nothing
	PassLog          PassLog           // nil keeps no record of the last pass
}

// Result counts what a pass did.
type Result struct {
	Instances     int `json:"instances"`
	Owners        int `json:"owners"`
	OwnersFailed  int `json:"owners_failed"`
	Removed       int `json:"removed"`        // registrations deleted (204 or already gone)
	KeptBusy      int `json:"kept_busy"`      // DELETE answered busy
	RemoveFailed  int `json:"remove_failed"`  // DELETE failed or was not attempted in time
	Terminated    int `json:"terminated"`     // instances in the TerminateInstances call
	MarkedOrphans int `json:"marked_orphans"` // first phase
	ClearedMarks  int `json:"cleared_marks"`
	TokensDeleted int `json:"tokens_deleted"`
}

// Run is one reconcile pass. It returns an error only when the pass could not decide at all
// (the instance list failed) or could not act on what it decided.
func (r *Reconciler) Run(ctx context.Context) (Result, error) {
	var res Result
	s, err := r.gather(ctx, &res)
	if err != nil {
		return res, err
	}
	plan := Decide(s)
	return res, r.execute(ctx, s, plan, &res)
}

// gather lists tokens, then instances, then runners per owner: in that order, so a token or
// registration made during the pass always finds its instance (see the package comment).
func (r *Reconciler) gather(ctx context.Context, res *Result) (State, error) {
	s := State{RunnerNamePrefix: r.RunnerNamePrefix, Configs: config.ByKey(r.Configs), Runners: map[Owner][]Runner{}}
	if r.Tokens != nil {
		toks, err := r.Tokens.List(ctx)
		if err != nil {
			r.Log.Warn("token parameters not listed; skipping their clean-up", logging.KeyError, err.Error())
		} else {
			s.Tokens = toks
			if s.Tokens == nil {
				s.Tokens = []Token{}
			}
		}
	}
	insts, err := r.Fleet.List(ctx)
	if err != nil {
		return s, fmt.Errorf("list instances: %w", err)
	}
	s.Instances = insts
	r.endedHosts(ctx, &s)

	owners := map[Owner]bool{}
	for _, in := range insts {
		if in.Owner.Valid() {
			owners[in.Owner] = true
		}
	}
	if r.sweepOrgs() {
		orgs, err := r.GitHub.OrgOwners(ctx)
		if err != nil {
			r.Log.Warn("installations not listed; ghost sweep limited to owners with instances", logging.KeyError, err.Error())
		}
		for _, o := range orgs {
			owners[o] = true
		}
	}
	for _, o := range slices.SortedFunc(maps.Keys(owners), compareOwners) {
		res.Owners++
		rs, err := r.GitHub.ListRunners(ctx, o)
		if err != nil {
			// Without this owner's list nothing about its instances can be decided safely.
			res.OwnersFailed++
			r.Log.Warn("runners not listed; owner skipped this pass", logging.KeyOwner, o.Name, logging.KeyError, err.Error())
			if _, limited := githubapp.RateLimitWait(err); limited {
				break
			}
			continue
		}
		s.Runners[o] = rs
	}
	if hasGhostCandidates(s) {
		// An instance launched after the first list may already be registered: list again,
		// after EC2's list had time to catch up, so its registration is not taken for a ghost.
		if err := sleep(ctx, cmp.Or(r.RelistDelay, defaultRelistDelay)); err != nil {
			return s, err
		}
		if s.Instances, err = r.Fleet.List(ctx); err != nil {
			return s, fmt.Errorf("list instances again: %w", err)
		}
	}
	res.Instances = len(s.Instances)
	s.Now = r.now()
	return s, nil
}

// sweepOrgs: only org-level configs register in organizations.
func (r *Reconciler) sweepOrgs() bool {
	return slices.ContainsFunc(r.Configs, func(c config.RunnerConfig) bool { return c.Level == tags.TypeOrg })
}

func (r *Reconciler) execute(ctx context.Context, s State, p Plan, res *Result) error {
	var errs []error
	if len(p.ClearOrphans) > 0 {
		if err := r.Fleet.Untag(ctx, p.ClearOrphans, tags.Orphan); err != nil {
			errs = append(errs, fmt.Errorf("clear orphan marks: %w", err))
		} else {
			res.ClearedMarks = len(p.ClearOrphans)
		}
	}
	if len(p.MarkOrphans) > 0 {
		if err := r.Fleet.Tag(ctx, p.MarkOrphans, tags.Orphan, s.Now.UTC().Format(time.RFC3339)); err != nil {
			errs = append(errs, fmt.Errorf("mark orphans: %w", err))
		} else {
			res.MarkedOrphans = len(p.MarkOrphans)
			for _, id := range p.MarkOrphans {
				r.Log.Info("orphan marked", logging.KeyInstanceID, id, logging.KeyDecision, "orphan_mark")
			}
		}
	}

	orphans := r.confirmOrphans(ctx, s, p.Terminate, res)
	terminate := slices.Clone(orphans)
	for _, id := range orphans {
		r.Log.Info("orphan terminating", logging.KeyInstanceID, id, logging.KeyDecision, ReasonOrphan)
	}
	terminate = append(terminate, r.removeRegistrations(ctx, p.Removals, res)...)
	var terminated []string
	if len(terminate) > 0 {
		if err := r.Fleet.Terminate(ctx, terminate); err != nil {
			// The registrations are gone: these instances become orphans and go in two passes.
			errs = append(errs, fmt.Errorf("terminate: %w", err))
		} else {
			res.Terminated = len(terminate)
			terminated = terminate
		}
	}
	reasons := map[string]string{}
	for _, rm := range p.Removals {
		reasons[rm.InstanceID] = rm.Reason
	}
	r.record(s, terminated, reasons)

	if len(p.DeleteTokens) > 0 {
		n, err := r.Tokens.Delete(ctx, p.DeleteTokens)
		res.TokensDeleted = n
		if err != nil {
			errs = append(errs, fmt.Errorf("delete stale tokens: %w", err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("reconcile: %w", errors.Join(errs...))
	}
	return nil
}

// removeRegistrations DELETEs each registration, one at a time as GitHub asks of
// integrations, and returns the instances GitHub confirmed free to terminate.
func (r *Reconciler) removeRegistrations(ctx context.Context, rms []Removal, res *Result) []string {
	var confirmed []string
	deadline, hasDeadline := ctx.Deadline()
	for i, rm := range rms {
		if hasDeadline && time.Until(deadline) < terminateReserve {
			res.RemoveFailed += len(rms) - i
			r.Log.Warn("pass out of time; removals left for the next pass", "left", len(rms)-i)
			break
		}
		log := r.Log.With(logging.KeyRunner, rm.RunnerName, logging.KeyOwner, rm.Owner.Name, logging.KeyDecision, rm.Reason)
		if rm.InstanceID != "" {
			log = log.With(logging.KeyInstanceID, rm.InstanceID)
		}
		ans, err := r.GitHub.RemoveRunner(ctx, rm.Owner, rm.RunnerID)
		if err != nil {
			res.RemoveFailed++
			log.Warn("runner not removed", logging.KeyError, err.Error())
			if _, limited := githubapp.RateLimitWait(err); limited {
				res.RemoveFailed += len(rms) - i - 1
				break
			}
			continue
		}
		switch ans {
		case Busy:
			res.KeptBusy++
			log.Info("runner busy; kept")
			continue
		case Removed, NotFound:
			res.Removed++
			log.Info("runner removed", "answer", ans.String())
		}
		if rm.InstanceID != "" {
			confirmed = append(confirmed, rm.InstanceID)
		}
	}
	return confirmed
}

func hasGhostCandidates(s State) bool {
	running := make(map[string]bool, len(s.Instances))
	for _, in := range s.Instances {
		running[in.ID] = true
	}
	for _, rs := range s.Runners {
		for _, r := range rs {
			if id, ours := tags.InstanceIDFromRunnerName(s.RunnerNamePrefix, r.Name); ours && !running[id] && !r.Online && !r.Busy {
				return true
			}
		}
	}
	return false
}

func compareOwners(a, b Owner) int {
	return cmp.Or(cmp.Compare(a.Level, b.Level), cmp.Compare(a.Name, b.Name))
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Handle is the scheduled Lambda entry point: one pass, its counts logged and returned.
// Each pass's counts are also kept in r.PassLog, for `ghr status`; failing to keep them
// does not fail the pass.
func (r *Reconciler) Handle(ctx context.Context) (Result, error) {
	start := r.now()
	res, err := r.Run(ctx)
	r.Log.Info("reconcile done", "result", res)
	if err != nil {
		r.Log.Error("reconcile failed", logging.KeyError, err.Error())
	}
	if r.PassLog != nil {
		end := r.now()
		rec := PassRecord{At: end.UTC(), Seconds: end.Sub(start).Seconds(), Result: res}
		if err != nil {
			rec.Error = err.Error()
		}
		if serr := r.PassLog.Save(ctx, rec); serr != nil {
			r.Log.Warn("last pass not recorded", logging.KeyError, serr.Error())
		}
	}
	return res, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// confirmOrphans asks GitHub about each second-phase orphan by its runner id (or name) before
// it is terminated: absence from a page-numbered list alone is not proof, since a runner that
// registers while the list is read can fall between two pages. A registration found clears
// the orphan mark; a failed look-up keeps the mark for a later pass. An instance without owner
// tags can have no registration and needs no call.
func (r *Reconciler) confirmOrphans(ctx context.Context, s State, ids []string, res *Result) []string {
	byID := make(map[string]Instance, len(s.Instances))
	for _, in := range s.Instances {
		byID[in.ID] = in
	}
	var confirmed, found []string
	for _, id := range ids {
		in := byID[id]
		if !in.Owner.Valid() {
			confirmed = append(confirmed, id)
			continue
		}
		_, ok, err := r.GitHub.FindRunner(ctx, in.Owner, in.RunnerID, tags.RunnerName(s.RunnerNamePrefix, id))
		switch {
		case err != nil:
			r.Log.Warn("orphan not confirmed; kept for a later pass", logging.KeyInstanceID, id, logging.KeyOwner, in.Owner.Name, logging.KeyError, err.Error())
		case ok:
			r.Log.Info("orphan is registered after all; mark cleared", logging.KeyInstanceID, id, logging.KeyOwner, in.Owner.Name)
			found = append(found, id)
		default:
			confirmed = append(confirmed, id)
		}
	}
	if len(found) > 0 {
		if err := r.Fleet.Untag(ctx, found, tags.Orphan); err == nil {
			res.ClearedMarks += len(found)
		}
	}
	return confirmed
}

// maxEndedLookups bounds the instance ids of one pass's Ended call: DescribeInstances takes
// at most 200 values in a filter. More young stale tokens than that wait for tokenGrace.
const maxEndedLookups = 200

// endedHosts asks EC2 which instances of the young tokens with no live instance have ended: a
// host that died before reading its token (a spot reclaim or a failure at boot) leaves it
// for tokenGrace otherwise. An instance not listed at all may be a launch EC2 does not list
// yet, so only a listed end counts. A failed lookup leaves the tokens to tokenGrace.
func (r *Reconciler) endedHosts(ctx context.Context, s *State) {
	now := r.now()
	live := map[string]bool{}
	for _, in := range s.Instances {
		live[in.ID] = true
	}
	var ids []string
	for _, t := range s.Tokens {
		if !live[t.InstanceID] && now.Sub(t.Modified) < tokenGrace && len(ids) < maxEndedLookups {
			ids = append(ids, t.InstanceID)
		}
	}
	if len(ids) == 0 {
		return
	}
	ended, err := r.Fleet.Ended(ctx, ids)
	if err != nil {
		r.Log.Warn("ended instances not listed; their tokens wait for the grace period", logging.KeyError, err.Error())
		return
	}
	s.Ended = map[string]bool{}
	for _, id := range ended {
		s.Ended[id] = true
	}
}
