package ghsim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxJITLabels is GitHub's limit on labels in a generate-jitconfig request.
const maxJITLabels = 100

// scopeOf returns a resolver of the runner scope a request names, checking the
// installation's access the way GitHub answers: an org the installation is not in is 403
// "Resource not accessible by integration"; a repository it cannot see is 404. Caller holds
// mu.
func (s *Sim) scopeOf(level string) func(w http.ResponseWriter, r *http.Request, id identity) (scope, bool) {
	return func(w http.ResponseWriter, r *http.Request, id identity) (scope, bool) {
		if level == LevelOrg {
			a, ok := s.accounts[strings.ToLower(r.PathValue("org"))]
			if !ok || a.Type != TypeOrganization {
				writeError(w, http.StatusNotFound, msgNotFound, docRunners)
				return scope{}, false
			}
			if id.inst.Account.ID != a.ID {
				writeError(w, http.StatusForbidden, msgNotAccessible, docRunners)
				return scope{}, false
			}
			return scope{level: LevelOrg, name: a.Login}, true
		}
		rp, ok := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
		if !ok || !id.inst.covers(rp) {
			writeError(w, http.StatusNotFound, msgNotFound, docRunners)
			return scope{}, false
		}
		return scope{level: LevelRepo, name: rp.FullName}, true
	}
}

type scopeFunc = func(w http.ResponseWriter, r *http.Request, id identity) (scope, bool)

// runnersIn returns a scope's registrations by id, optionally only those named name.
// Caller holds mu.
func (s *Sim) runnersIn(sc scope, name string) []*runner {
	s.pruneRunners()
	var out []*runner
	for _, r := range s.runners {
		if r.scope.is(sc) && (name == "" || r.name == name) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *runner) int { return cmp.Compare(a.id, b.id) })
	return out
}

// GET …/actions/runners
func (s *Sim) listRunners(scopeFn scopeFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := scopeFn(w, r, id)
		if !ok {
			return
		}
		all := s.runnersIn(sc, r.URL.Query().Get("name"))
		page, per := paging(r)
		lo, hi := pageBounds(len(all), page, per)
		out := make([]map[string]any, 0, hi-lo)
		for _, rn := range all[lo:hi] {
			out = append(out, runnerJSON(rn))
		}
		setPageLinks(w, r, page, per, len(all))
		writeJSON(w, http.StatusOK, map[string]any{"total_count": len(all), "runners": out})
	}
}

// runnerByPath finds the {id} runner in the scope, or answers 404. Caller holds mu.
func (s *Sim) runnerByPath(w http.ResponseWriter, r *http.Request, sc scope) (*runner, bool) {
	rid, ok := pathID(w, r, docRunners)
	if !ok {
		return nil, false
	}
	s.pruneRunners()
	rn, ok := s.runners[rid]
	if !ok || !rn.scope.is(sc) {
		writeError(w, http.StatusNotFound, msgNotFound, docRunners)
		return nil, false
	}
	return rn, true
}

// GET …/actions/runners/{id}
func (s *Sim) getRunner(scopeFn scopeFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := scopeFn(w, r, id)
		if !ok {
			return
		}
		if rn, ok := s.runnerByPath(w, r, sc); ok {
			writeJSON(w, http.StatusOK, runnerJSON(rn))
		}
	}
}

// DELETE …/actions/runners/{id}: 204, or 422 while the runner runs a job.
func (s *Sim) deleteRunner(scopeFn scopeFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := scopeFn(w, r, id)
		if !ok {
			return
		}
		rn, ok := s.runnerByPath(w, r, sc)
		if !ok {
			return
		}
		if rn.busy {
			writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Bad request - Runner %q is still running a job\"", rn.name), docRunners)
			return
		}
		s.removeRunner(rn.id)
		w.WriteHeader(http.StatusNoContent)
	}
}

type jitRequest struct {
	Name          string   `json:"name"`
	RunnerGroupID *int64   `json:"runner_group_id"`
	Labels        []string `json:"labels"`
	WorkFolder    string   `json:"work_folder"`
}

// POST …/actions/runners/generate-jitconfig: registers an offline ephemeral runner with
// exactly the given labels and returns its one-use config.
func (s *Sim) generateJIT(scopeFn scopeFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		var req jitRequest
		if err := decodeBody(r, &req); err != nil {
			writeError(w, http.StatusBadRequest, "Problems parsing JSON", docRunners)
			return
		}
		var bad []string
		if req.Name == "" {
			bad = append(bad, "name is missing")
		}
		if req.RunnerGroupID == nil {
			bad = append(bad, "runner_group_id is missing")
		}
		if len(req.Labels) == 0 || len(req.Labels) > maxJITLabels {
			bad = append(bad, "labels must have between 1 and "+strconv.Itoa(maxJITLabels)+" items")
		}
		if slices.Contains(req.Labels, "") {
			bad = append(bad, "labels must not be empty")
		}
		if len(bad) > 0 {
			writeValidation(w, docRunners, bad...)
			return
		}
		if req.WorkFolder == "" {
			req.WorkFolder = "_work"
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := scopeFn(w, r, id)
		if !ok {
			return
		}
		groupName, ok := s.group(sc, *req.RunnerGroupID)
		if !ok {
			writeError(w, http.StatusNotFound, msgNotFound, docRunners)
			return
		}
		if s.runnerNamed(sc, req.Name) != nil {
			writeError(w, http.StatusConflict, fmt.Sprintf("Already exists - A runner with the name %s already exists.", req.Name), docRunners)
			return
		}
		rn := s.newRunner(sc, req.Name, *req.RunnerGroupID, req.Labels, true, true)
		enc, err := s.encodeJIT(rn, groupName, req.WorkFolder)
		if err != nil {
			s.removeRunner(rn.id)
			writeError(w, http.StatusInternalServerError, "Server Error", docRunners)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"runner": runnerJSON(rn), "encoded_jit_config": enc})
	}
}

// group resolves a runner group id in a scope: an org's groups, or the Default group a
// repository's runners always use. Caller holds mu.
func (s *Sim) group(sc scope, id int64) (string, bool) {
	if sc.level == LevelRepo {
		return "Default", id == defaultGroupID
	}
	for _, g := range s.groups[strings.ToLower(sc.name)] {
		if g.ID == id {
			return g.Name, true
		}
	}
	return "", false
}

// POST …/actions/runners/registration-token
func (s *Sim) registrationToken(scopeFn scopeFunc) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		s.mu.Lock()
		defer s.mu.Unlock()
		sc, ok := scopeFn(w, r, id)
		if !ok {
			return
		}
		tok := s.issueRegistrationToken(sc)
		writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": s.regs[tok].expires.Format(timeFormat)})
	}
}

// GET /orgs/{org}/actions/runner-groups
func (s *Sim) listRunnerGroups(w http.ResponseWriter, r *http.Request, id identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.scopeOf(LevelOrg)(w, r, id)
	if !ok {
		return
	}
	groups := s.groups[strings.ToLower(sc.name)]
	page, per := paging(r)
	lo, hi := pageBounds(len(groups), page, per)
	out := make([]map[string]any, 0, hi-lo)
	base := s.apiURL() + "/orgs/" + sc.name + "/actions/runner-groups/"
	for _, g := range groups[lo:hi] {
		gid := strconv.FormatInt(g.ID, 10)
		out = append(out, map[string]any{
			"id": g.ID, "name": g.Name, "visibility": "all", "default": g.ID == defaultGroupID,
			"runners_url": base + gid + "/runners", "inherited": false, "allows_public_repositories": true,
			"restricted_to_workflows": false, "selected_workflows": []string{}, "workflow_restrictions_read_only": false,
		})
	}
	setPageLinks(w, r, page, per, len(groups))
	writeJSON(w, http.StatusOK, map[string]any{"total_count": len(groups), "runner_groups": out})
}

// GET /repos/{owner}/{repo}/actions/jobs/{id}
func (s *Sim) getJob(w http.ResponseWriter, r *http.Request, id identity) {
	jid, ok := pathID(w, r, docJobs)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.scopeOf(LevelRepo)(w, r, id)
	if !ok {
		return
	}
	j, ok := s.jobs[jid]
	if !ok || !strings.EqualFold(j.Repo, sc.name) {
		writeError(w, http.StatusNotFound, msgNotFound, docJobs)
		return
	}
	writeJSON(w, http.StatusOK, s.jobJSON(j))
}
