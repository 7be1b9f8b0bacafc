package ec2fleettest

import (
	"cmp"
	"maps"
	"strconv"
	"time"

	"github.com/ghr-dev/ghr/internal/tags"
)

// TemplateID is the launch template id of the fake's launches by name (it knows one
// template); tests list with it as the deployment's template. TemplateName is Setup's
// template on the emulator.
const (
	TemplateID   = "lt-0123456789abcdef0"
	TemplateName = "ghr-test-runner"
)

// Runner is a runner host as scale-up tags it (ec2compute's launch tags and its ghr:registered
// call), for seeding the fake with a world scale-up did not launch in the test.
type Runner struct {
	ID          string
	Environment string // ghr:environment, the deployment prefix
	Config      string // ghr:runner-config
	Level       string // ghr:type: tags.TypeOrg or tags.TypeRepo; empty leaves both owner tags off
	Owner       string // ghr:owner
	CreatedBy   string // ghr:created-by; empty leaves it off
	RunnerID    int64  // ghr:runner-id/<id>; 0 leaves it off
	// LaunchTemplateID is the EC2-set aws:ec2launchtemplate:id; empty means TemplateID, the
	// template every ghr launch in the fake uses. NoTemplate leaves it off: an instance
	// launched without the deployment's template, whatever else it is tagged with.
	LaunchTemplateID string
	NoTemplate       bool
	LaunchTime       time.Time
	Extra            map[string]string // other tags, e.g. ghr:protect or ghr:orphan
}

// PutRunner adds (or replaces) a running host with r's tags.
func (f *Fake) PutRunner(r Runner) {
	kv := map[string]string{tags.Environment: r.Environment, tags.RunnerConfig: r.Config}
	if r.Level != "" {
		kv[tags.Type], kv[tags.Owner] = r.Level, r.Owner
	}
	kv[tags.CreatedBy] = cmp.Or(r.CreatedBy, tags.CreatedByScaleUp) // every ghr launch sets it
	if r.RunnerID != 0 {
		kv[tags.RunnerIDKey(r.ID)] = strconv.FormatInt(r.RunnerID, 10)
	}
	if !r.NoTemplate {
		kv[tags.LaunchTemplateID] = cmp.Or(r.LaunchTemplateID, TemplateID)
	}
	maps.Copy(kv, r.Extra)
	f.Put(FakeInstance{ID: r.ID, Tags: kv, LaunchTime: r.LaunchTime})
}
