package ghsim

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// GET /app/installations
func (s *Sim) listInstallations(w http.ResponseWriter, r *http.Request, id identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*installation, 0, len(s.installs))
	for _, in := range s.installs {
		if in.AppID == id.app.ID {
			all = append(all, in)
		}
	}
	slices.SortFunc(all, func(a, b *installation) int { return cmp.Compare(a.ID, b.ID) })
	page, per := paging(r)
	lo, hi := pageBounds(len(all), page, per)
	out := make([]map[string]any, 0, hi-lo)
	for _, in := range all[lo:hi] {
		out = append(out, s.installationJSON(in))
	}
	setPageLinks(w, r, page, per, len(all))
	writeJSON(w, http.StatusOK, out)
}

// GET /app/installations/{id}: 404 for an installation of another App or none.
func (s *Sim) getInstallation(w http.ResponseWriter, r *http.Request, who identity) {
	id, ok := pathID(w, r, docInstallation)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[id]
	if !ok || in.AppID != who.app.ID {
		writeError(w, http.StatusNotFound, msgNotFound, docInstallation)
		return
	}
	writeJSON(w, http.StatusOK, s.installationJSON(in))
}

// POST /app/installations/{id}/access_tokens
func (s *Sim) createToken(w http.ResponseWriter, r *http.Request, who identity) {
	id, ok := pathID(w, r, docInstallation)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.installs[id]
	if !ok || in.AppID != who.app.ID { // another App's installation is not found, as on GitHub
		writeError(w, http.StatusNotFound, msgNotFound, docInstallation)
		return
	}
	tok, exp := s.mintToken(in)
	sel := "all"
	if in.Repos != nil {
		sel = "selected"
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": exp.Format(timeFormat),
		"permissions": appPermissions, "repository_selection": sel})
}

// GET /orgs/{org}/installation and GET /users/{org}/installation
func (s *Sim) findInstallation(typ string) handler {
	return func(w http.ResponseWriter, r *http.Request, id identity) {
		s.mu.Lock()
		defer s.mu.Unlock()
		in := s.installationOf(id.app.ID, r.PathValue("org"))
		if in == nil || in.Account.Type != typ {
			writeError(w, http.StatusNotFound, msgNotFound, docInstallation)
			return
		}
		writeJSON(w, http.StatusOK, s.installationJSON(in))
	}
}

// GET /repos/{owner}/{repo}/installation
func (s *Sim) findRepoInstallation(w http.ResponseWriter, r *http.Request, id identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp, ok := s.repos[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
	var in *installation
	if ok {
		in = s.repoInstallation(id.app.ID, rp)
	}
	if in == nil {
		writeError(w, http.StatusNotFound, msgNotFound, docInstallation)
		return
	}
	writeJSON(w, http.StatusOK, s.installationJSON(in))
}

// GET /rate_limit: free, like GitHub's.
func (s *Sim) rateLimit(w http.ResponseWriter, _ *http.Request, id identity) {
	q := s.limits.snapshot(id)
	core := map[string]any{"limit": q.limit, "remaining": max(q.limit-q.used, 0), "used": q.used, "reset": q.reset.Unix()}
	writeJSON(w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core, "search": core}, "rate": core})
}
