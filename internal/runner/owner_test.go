package runner

import "testing"

func TestOwnerValid(t *testing.T) {
	for _, tc := range []struct {
		o    Owner
		want bool
	}{
		{Owner{Level: LevelOrg, Name: "octo"}, true},
		{Owner{Level: LevelRepo, Name: "octo/app"}, true},
		{Owner{Level: LevelOrg, Name: "octo/app"}, false},
		{Owner{Level: LevelRepo, Name: "octo"}, false},
		{Owner{Level: LevelRepo, Name: "octo/app/x"}, false},
		{Owner{Level: LevelRepo, Name: "/app"}, false},
		{Owner{Level: "enterprise", Name: "octo"}, false},
		{Owner{Level: LevelOrg}, false},
	} {
		if got := tc.o.Valid(); got != tc.want {
			t.Errorf("%v.Valid() = %v, want %v", tc.o, got, tc.want)
		}
	}
}

func TestOwnerAccountAndSame(t *testing.T) {
	repo := Owner{Level: LevelRepo, Name: "octo/app", InstallationID: 7}
	if got := repo.Account(); got != "octo" {
		t.Errorf("Account() = %q, want octo", got)
	}
	if !repo.Same(Owner{Level: LevelRepo, Name: "octo/app"}) {
		t.Error("an installation id must not make two owners differ")
	}
	if repo.Same(Owner{Level: LevelOrg, Name: "octo/app"}) {
		t.Error("owners of different levels are not the same")
	}
}
