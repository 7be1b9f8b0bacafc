package ghsim

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/ghr-dev/ghr/internal/githubapp"
)

type handler func(w http.ResponseWriter, r *http.Request, id identity)

type route struct {
	pattern string
	auth    authKind
	free    bool // not charged to any rate limit (GET /rate_limit)
	h       handler
}

func (s *Sim) routes() *http.ServeMux {
	org, repo := s.scopeOf(LevelOrg), s.scopeOf(LevelRepo)
	table := []route{
		{"GET /app", authApp, false, s.getApp},
		{"POST /app-manifests/{code}/conversions", authAny, false, s.convertManifest},
		{"GET /app/installations", authApp, false, s.listInstallations},
		{"GET /app/installations/{id}", authApp, false, s.getInstallation},
		{"POST /app/installations/{id}/access_tokens", authApp, false, s.createToken},
		{"GET /orgs/{org}/installation", authApp, false, s.findInstallation(TypeOrganization)},
		{"GET /users/{org}/installation", authApp, false, s.findInstallation(TypeUser)},
		{"GET /repos/{owner}/{repo}/installation", authApp, false, s.findRepoInstallation},
		{"GET /app/hook/deliveries", authApp, false, s.listDeliveries},
		{"GET /app/hook/deliveries/{id}", authApp, false, s.getDelivery},
		{"POST /app/hook/deliveries/{id}/attempts", authApp, false, s.redeliverDelivery},

		{"GET /orgs/{org}/actions/runners", authInstallation, false, s.listRunners(org)},
		{"GET /orgs/{org}/actions/runners/{id}", authInstallation, false, s.getRunner(org)},
		{"DELETE /orgs/{org}/actions/runners/{id}", authInstallation, false, s.deleteRunner(org)},
		{"POST /orgs/{org}/actions/runners/generate-jitconfig", authInstallation, false, s.generateJIT(org)},
		{"POST /orgs/{org}/actions/runners/registration-token", authInstallation, false, s.registrationToken(org)},
		{"GET /orgs/{org}/actions/runner-groups", authInstallation, false, s.listRunnerGroups},
		{"GET /repos/{owner}/{repo}/actions/runners", authInstallation, false, s.listRunners(repo)},
		{"GET /repos/{owner}/{repo}/actions/runners/{id}", authInstallation, false, s.getRunner(repo)},
		{"DELETE /repos/{owner}/{repo}/actions/runners/{id}", authInstallation, false, s.deleteRunner(repo)},
		{"POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig", authInstallation, false, s.generateJIT(repo)},
		{"POST /repos/{owner}/{repo}/actions/runners/registration-token", authInstallation, false, s.registrationToken(repo)},
		{"GET /repos/{owner}/{repo}/actions/jobs/{id}", authInstallation, false, s.getJob},
		{"POST /repos/{owner}/{repo}/actions/jobs/{id}/rerun", authInstallation, false, s.rerunJob},

		{"GET /repos/{owner}/{repo}/releases/latest", authAny, false, s.latestRelease},
		{"GET /repos/{owner}/{repo}/releases/tags/{tag}", authAny, false, s.releaseByTag},
		{"GET /repos/{owner}/{repo}/releases/assets/{id}", authAny, false, s.getAsset},
		{"GET /rate_limit", authAny, true, s.rateLimit},
	}
	mux := http.NewServeMux()
	for _, rt := range table {
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	// Release downloads live on github.com, not the API: no auth, no API limits.
	mux.HandleFunc("GET /{owner}/{repo}/releases/download/{tag}/{name}", s.download)
	// So does the App manifest form (manifests.go).
	mux.HandleFunc("POST /settings/apps/new", s.newManifest)
	mux.HandleFunc("POST /organizations/{org}/settings/apps/new", s.newManifest)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.stats.add(func(st *Stats) map[string]int { return st.Requests }, githubapp.Endpoint(r.Method, r.URL.Path, ""))
		writeError(w, http.StatusNotFound, msgNotFound, docAuth)
	})
	return mux
}

// wrap runs what GitHub runs before an endpoint: accounting, authentication, the primary and
// secondary limits, then injected faults.
func (s *Sim) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		endpoint := githubapp.Endpoint(r.Method, r.URL.Path, "")
		s.stats.add(func(st *Stats) map[string]int { return st.Requests }, endpoint)
		h := w.Header()
		h.Set("X-GitHub-Request-Id", requestID())
		h.Set("X-GitHub-Media-Type", "github.v3; format=json")
		h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
		id, ok := s.authenticate(w, r, rt.auth)
		if !ok {
			s.stats.add(func(st *Stats) map[string]int { return st.Unauthorized }, endpoint)
			return
		}
		if ans := s.limits.admit(h, id, endpoint, r.Method, rt.free); ans != nil {
			if ans.secondary {
				s.stats.add(func(st *Stats) map[string]int { return st.SecondaryLimited }, endpoint)
				h.Set("Retry-After", strconv.Itoa(ans.retryAfter))
				writeError(w, ans.status, fmt.Sprintf(msgSecondary, h.Get("X-GitHub-Request-Id")), docSecondary)
				return
			}
			s.stats.add(func(st *Stats) map[string]int { return st.PrimaryLimited }, endpoint)
			writeError(w, ans.status, primaryMessage(id), docPrimary)
			return
		}
		if status := s.faults.apply(r.Context(), endpoint); status != 0 {
			s.stats.add(func(st *Stats) map[string]int { return st.InjectedErrors }, endpoint)
			writeError(w, status, "Server Error", docAuth)
			return
		}
		rt.h(w, r, id)
	})
}

func requestID() string {
	r := randomString(20)
	return fmt.Sprintf("%s:%s:%s:%s:%s", r[:4], r[4:8], r[8:12], r[12:16], r[16:])
}

// pathID parses a numeric path parameter; a non-number is GitHub's 404.
func pathID(w http.ResponseWriter, r *http.Request, doc string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusNotFound, msgNotFound, doc)
		return 0, false
	}
	return id, true
}
