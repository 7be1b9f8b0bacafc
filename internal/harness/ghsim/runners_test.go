package ghsim

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunnerListPaging(t *testing.T) {
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	tok, err := srv.NewRegistrationToken("octo")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 {
		if _, err := srv.ConnectRegistration(tok, fmt.Sprintf("r%d", i), nil, false); err != nil {
			t.Fatal(err)
		}
	}
	octo := installationToken(t, srv, w.octo.ID)
	base := srv.URL + "/orgs/octo/actions/runners"
	link := func(page, per int, rel string) string {
		return fmt.Sprintf("<%s?page=%d&per_page=%d>; rel=%q", base, page, per, rel)
	}
	tests := []struct {
		query     string
		wantNames string
		wantLink  string
	}{
		{"?per_page=3", "r0 r1 r2", link(2, 3, "next") + ", " + link(3, 3, "last")},
		{"?per_page=3&page=2", "r3 r4 r5", strings.Join([]string{link(1, 3, "prev"), link(3, 3, "next"), link(3, 3, "last"), link(1, 3, "first")}, ", ")},
		{"?per_page=3&page=3", "r6", link(2, 3, "prev") + ", " + link(1, 3, "first")},
		{"?per_page=3&page=9", "", link(3, 3, "prev") + ", " + link(1, 3, "first")},
		{"", "r0 r1 r2 r3 r4 r5 r6", ""},                       // default 30 per page
		{"?per_page=500", "r0 r1 r2 r3 r4 r5 r6", ""},          // capped at 100
		{"?per_page=zero&page=-1", "r0 r1 r2 r3 r4 r5 r6", ""}, // bad values take defaults
		{"?name=r4", "r4", ""},
		{"?name=R4", "", ""}, // exact name
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			a := call(t, srv, "GET", "/orgs/octo/actions/runners"+tt.query, octo, nil)
			var out struct {
				TotalCount int `json:"total_count"`
				Runners    []struct{ Name string }
			}
			a.decode(t, &out)
			var names []string
			for _, r := range out.Runners {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, " "); got != tt.wantNames {
				t.Errorf("runners = %q, want %q", got, tt.wantNames)
			}
			if got := a.header.Get("Link"); got != tt.wantLink {
				t.Errorf("Link = %s\nwant   %s", got, tt.wantLink)
			}
			wantTotal := 7
			if strings.Contains(tt.query, "name=") {
				wantTotal = len(out.Runners)
			}
			if out.TotalCount != wantTotal {
				t.Errorf("total_count = %d, want %d", out.TotalCount, wantTotal)
			}
		})
	}
}

func TestGenerateJITConfig(t *testing.T) {
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	gpu, err := srv.AddRunnerGroup("octo", "gpu")
	if err != nil {
		t.Fatal(err)
	}
	octo := installationToken(t, srv, w.octo.ID)
	body := func(name string, group int64, labels ...string) map[string]any {
		return map[string]any{"name": name, "runner_group_id": group, "labels": labels}
	}
	tests := []struct {
		name, path string
		body       any
		want       int
	}{
		{"org default group", "/orgs/octo/actions/runners/generate-jitconfig", body("a", 1, "x"), 201},
		{"org custom group", "/orgs/octo/actions/runners/generate-jitconfig", body("b", gpu, "x"), 201},
		{"unknown group", "/orgs/octo/actions/runners/generate-jitconfig", body("c", 999, "x"), 404},
		{"name taken", "/orgs/octo/actions/runners/generate-jitconfig", body("A", 1, "x"), 409},
		{"same name in a repo", "/repos/octo/app/actions/runners/generate-jitconfig", body("a", 1, "x"), 201},
		{"repo custom group", "/repos/octo/app/actions/runners/generate-jitconfig", body("d", gpu, "x"), 404},
		{"no labels", "/orgs/octo/actions/runners/generate-jitconfig", body("e", 1), 422},
		{"empty label", "/orgs/octo/actions/runners/generate-jitconfig", body("e", 1, ""), 422},
		{"no group", "/orgs/octo/actions/runners/generate-jitconfig", map[string]any{"name": "e", "labels": []string{"x"}}, 422},
		{"no name", "/orgs/octo/actions/runners/generate-jitconfig", body("", 1, "x"), 422},
		{"not json", "/orgs/octo/actions/runners/generate-jitconfig", "nope", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a := call(t, srv, "POST", tt.path, octo, tt.body); a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
		})
	}
	var b Runner
	for _, r := range srv.Runners() {
		if r.Name == "b" {
			b = r
		}
	}
	if b.GroupID != gpu || !b.JIT || !b.Ephemeral || b.Online || strings.Join(b.Labels, ",") != "x" {
		t.Fatalf("runner b = %+v, want an offline ephemeral JIT runner in group %d with exactly label x", b, gpu)
	}
}

func TestDeleteRunner(t *testing.T) {
	srv := start(t, Options{})
	w := seed(t, srv.Sim)
	tok, _ := srv.NewRegistrationToken("octo/app")
	idle, err := srv.ConnectRegistration(tok, "idle", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	busy, err := srv.ConnectRegistration(tok, "busy", []string{"special"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"special"}}); err != nil {
		t.Fatal(err)
	}
	octo := installationToken(t, srv, w.octo.ID)
	del := func(id int64) answer {
		return call(t, srv, "DELETE", fmt.Sprintf("/repos/octo/app/actions/runners/%d", id), octo, nil)
	}
	a := del(busy.ID())
	var e struct{ Message string }
	a.decode(t, &e)
	if a.status != http.StatusUnprocessableEntity || e.Message != `Bad request - Runner "busy" is still running a job"` {
		t.Fatalf("busy: %d %q", a.status, e.Message)
	}
	if a := del(idle.ID()); a.status != http.StatusNoContent || len(a.body) != 0 {
		t.Fatalf("idle: %d %s", a.status, a.body)
	}
	select {
	case <-idle.Gone():
	default:
		t.Fatal("a deleted runner's connection should end")
	}
	if a := del(idle.ID()); a.status != http.StatusNotFound {
		t.Fatalf("deleted twice: %d", a.status)
	}
	if a := call(t, srv, "DELETE", fmt.Sprintf("/repos/octo/lib/actions/runners/%d", busy.ID()), octo, nil); a.status != http.StatusNotFound {
		t.Fatalf("runner of another repo: %d", a.status)
	}
	if a := call(t, srv, "DELETE", "/repos/octo/app/actions/runners/abc", octo, nil); a.status != http.StatusNotFound {
		t.Fatalf("non-numeric id: %d", a.status)
	}
}

func TestRegistrationTokenExpiry(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now})
	w := seed(t, srv.Sim)
	a := call(t, srv, "POST", "/orgs/octo/actions/runners/registration-token", installationToken(t, srv, w.octo.ID), nil)
	var tok struct {
		Token     string
		ExpiresAt time.Time `json:"expires_at"`
	}
	a.decode(t, &tok)
	if !tok.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("expires_at = %s, want in one hour", tok.ExpiresAt)
	}
	if _, err := srv.ConnectRegistration(tok.Token, "one", nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.ConnectRegistration(tok.Token, "two", nil, false); err != nil {
		t.Fatalf("a registration token registers several runners within its hour: %v", err)
	}
	if _, err := srv.ConnectRegistration(tok.Token, "ONE", nil, false); err == nil {
		t.Fatal("a runner name is unique in its scope, ignoring case")
	}
	clk.Advance(time.Hour)
	if _, err := srv.ConnectRegistration(tok.Token, "three", nil, false); err == nil {
		t.Fatal("expired registration token accepted")
	}
	var labels []string
	for _, r := range srv.Runners() {
		if r.Name == "one" {
			labels = r.Labels
		}
	}
	if strings.Join(labels, ",") != "self-hosted,Linux,X64" {
		t.Fatalf("labels = %v, want config.sh's defaults", labels)
	}
}

func TestOfflineRunnersExpire(t *testing.T) {
	clk := newClock()
	srv := start(t, Options{Now: clk.Now})
	w := seed(t, srv.Sim)
	octo := installationToken(t, srv, w.octo.ID)
	// A JIT runner never started, and a persistent runner that stopped.
	call(t, srv, "POST", "/orgs/octo/actions/runners/generate-jitconfig", octo, map[string]any{"name": "jit", "runner_group_id": 1, "labels": []string{"x"}})
	tok, _ := srv.NewRegistrationToken("octo")
	p, err := srv.ConnectRegistration(tok, "persistent", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	p.Disconnect()
	names := func() string {
		var n []string
		for _, r := range srv.Runners() {
			n = append(n, r.Name)
		}
		return strings.Join(n, ",")
	}
	clk.Advance(24*time.Hour + time.Second)
	if got := names(); got != "persistent" {
		t.Fatalf("after a day: %s, want only the persistent runner", got)
	}
	clk.Advance(13 * 24 * time.Hour)
	if got := names(); got != "" {
		t.Fatalf("after 14 days: %s, want none", got)
	}
}
