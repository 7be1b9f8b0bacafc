package scaledown

import (
	"context"
	"slices"
	"testing"

	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

func TestGitHubListsPagesAndRemoves(t *testing.T) {
	ctx := context.Background()
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddInstallation(8, "someone", "User")
	gh.SetPageSize(2)
	var ids []int64
	for i, name := range []string{"ghr-i-a0000000", "ghr-i-a0000001", "ghr-i-a0000002", "ghr-i-a0000003", "ghr-i-a0000004"} {
		ids = append(ids, gh.AddRunner("orgs/octo", name, i%2 == 0, i == 1))
	}
	repoRunner := gh.AddRunner("repos/octo/app", "ghr-i-a0000005", false, false)
	app := gh.App(t)
	g := &GitHub{App: app}

	owners, err := g.OrgOwners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Owner{octo}; !slices.Equal(owners, want) {
		t.Fatalf("org owners = %v, want %v", owners, want)
	}
	rs, err := g.ListRunners(ctx, octo)
	if err != nil {
		t.Fatal(err)
	}
	want := []Runner{{ids[0], "ghr-i-a0000000", true, false}, {ids[1], "ghr-i-a0000001", false, true}, {ids[2], "ghr-i-a0000002", true, false}, {ids[3], "ghr-i-a0000003", false, false}, {ids[4], "ghr-i-a0000004", true, false}}
	if !slices.Equal(rs, want) {
		t.Fatalf("runners = %+v\nwant %+v", rs, want)
	}
	if n := app.Stats().Calls()["GET /orgs/{org}/actions/runners"]; n != 3 {
		t.Errorf("list pages = %d, want 3", n)
	}
	// The installation came from the sweep: no per-owner installation lookup.
	if n := app.Stats().Calls()["GET /orgs/{org}/installation"]; n != 0 {
		t.Errorf("installation lookups = %d, want 0", n)
	}

	repo := Owner{Level: tags.TypeRepo, Name: "octo/app"}
	for _, tt := range []struct {
		owner Owner
		id    int64
		want  RemoveResult
	}{
		{octo, ids[0], Removed},
		{octo, ids[0], NotFound},
		{octo, ids[1], Busy},
		{repo, repoRunner, Removed},
		{repo, 999, NotFound},
	} {
		got, err := g.RemoveRunner(ctx, tt.owner, tt.id)
		if err != nil || got != tt.want {
			t.Errorf("remove %v %d = %v, %v; want %v", tt.owner, tt.id, got, err, tt.want)
		}
	}
	if got := len(gh.Runners("orgs/octo")); got != 4 {
		t.Errorf("runners left = %d, want 4", got)
	}
}

func TestGitHubLooksUpInstallationWithoutSweep(t *testing.T) {
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("repos/octo/app", "ghr-i-a0000000", true, false)
	g := &GitHub{App: gh.App(t)}
	rs, err := g.ListRunners(context.Background(), Owner{Level: tags.TypeRepo, Name: "octo/app"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("runners = %v, %v", rs, err)
	}
	if _, err := g.ListRunners(context.Background(), Owner{Level: tags.TypeOrg, Name: "nobody"}); err == nil {
		t.Fatal("listing an owner without installation succeeded")
	}
}
