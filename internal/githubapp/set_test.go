package githubapp

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
)

// params is a stateful SSM stand-in: parameters by name, and the names read.
type params struct {
	mu    sync.Mutex
	vals  map[string]string
	reads []string
}

func (p *params) Parameter(_ context.Context, name string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads = append(p.reads, name)
	v, ok := p.vals[name]
	if !ok {
		return "", fmt.Errorf("parameter %s not found", name)
	}
	return v, nil
}

// LoadSet reads every App's credentials, gives each its own budget and one shared Stats,
// and names the App whose credentials fail.
func TestLoadSet(t *testing.T) {
	_, pemKey := testKey(t)
	p := &params{vals: map[string]string{"/p/app/id": "7", "/p/app/key": string(pemKey), "/p/app/2/id": "8", "/p/app/2/key": string(pemKey), "/p/app/3/id": "9", "/p/app/3/key": string(pemKey)}}
	env := config.MapEnv(map[string]string{
		"GITHUB_APP_ID_PARAMETER": "/p/app/id", "GITHUB_APP_KEY_PARAMETER": "/p/app/key", "GITHUB_POINTS_PER_MINUTE": "100",
		"GITHUB_APPS": `[{"id_parameter":"/p/app/2/id","key_parameter":"/p/app/2/key","points_per_minute":50},{"id_parameter":"/p/app/3/id","key_parameter":"/p/app/3/key"}]`,
	})
	src := config.ReadGitHubApp(env)
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSet(context.Background(), src, p, Config{PointsPerMinute: src.PointsPerMinute})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.reads) != 6 {
		t.Errorf("read %v, want each App's id and key once", p.reads)
	}
	wantBurst := []float64{20, 10, 180} // a fifth of 100, 50 and the default 900
	for i, a := range set.Apps() {
		if a.ID() != int64(7+i) {
			t.Errorf("App %d has id %d, want %d", i+1, a.ID(), 7+i)
		}
		if a.stats != set.Stats() {
			t.Errorf("App %d counts its calls apart from the set", i+1)
		}
		if got := a.pacer.limiter("POST /x").Burst(); float64(got) != wantBurst[i] {
			t.Errorf("App %d paces with a burst of %d, want %v (its own budget)", i+1, got, wantBurst[i])
		}
	}

	delete(p.vals, "/p/app/3/key")
	if _, err := LoadSet(context.Background(), src, p, Config{}); err == nil || !strings.Contains(err.Error(), "github app 3 of 3") {
		t.Fatalf("a missing key of the third App: err = %v, want one naming it", err)
	}
}
