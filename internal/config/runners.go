package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	_ "time/tzdata" // Lambda images may lack zoneinfo; idle windows name zones.
)

// Label match modes of a runner config.
const (
	MatchExact  = "exact"  // job labels and config labels are the same set
	MatchSubset = "subset" // every job label is one of the config's labels
	MatchAny    = "any"    // at least one label in common
)

// Capacity types.
const (
	CapacitySpot     = "spot"
	CapacityOnDemand = "on-demand"
)

// Idle eviction orders.
const (
	EvictOldestFirst = "oldest_first"
	EvictNewestFirst = "newest_first"
)

// DefaultFailoverErrors are the CreateFleet error codes that make a spot launch fall back to
// on-demand: capacity problems, not configuration mistakes.
var DefaultFailoverErrors = []string{"InsufficientInstanceCapacity", "UnfulfillableCapacity", "MaxSpotInstanceCountExceeded"}

// RunnerConfig is one kind of runner: which jobs it takes (labels), where they queue, and how
// its instances are launched and removed. The Terraform module renders the list as JSON.
type RunnerConfig struct {
	Key       string   `json:"key"`
	Labels    []string `json:"labels"`
	Match     string   `json:"match"`
	Priority  int      `json:"priority"` // lower is tried first
	QueueURL  string   `json:"queue_url"`
	Level     string   `json:"level"` // "org" or "repo"; org falls back to repo for user-owned repositories
	Ephemeral bool     `json:"ephemeral"`

	// Registration.
	RunnerGroup  string `json:"runner_group,omitempty"` // org runner group name; "" means Default
	UseJobLabels bool   `json:"use_job_labels"`         // register with the job's labels so the runner takes only that job

	// EC2.
	LaunchTemplate string `json:"launch_template"`
	// LaunchTemplateID is the id of the same template: EC2 tags every launch with it
	// (tags.LaunchTemplateID), and an instance counts as the deployment's only when it carries
	// one of its configs' ids.
	LaunchTemplateID   string   `json:"launch_template_id"`
	InstanceTypes      []string `json:"instance_types"`
	SubnetIDs          []string `json:"subnet_ids"`
	CapacityType       string   `json:"capacity_type"`
	AllocationStrategy string   `json:"allocation_strategy,omitempty"`
	FailoverErrors     []string `json:"on_demand_failover_errors,omitempty"`
	MaxRunners         int      `json:"max_runners"` // -1 means unlimited

	// Removal and warm pool.
	MinRunningMinutes int          `json:"minimum_running_minutes"`
	BootMinutes       int          `json:"boot_minutes"`
	IdleConfig        []IdleWindow `json:"idle_config,omitempty"`
	IdleEviction      string       `json:"idle_eviction,omitempty"`
	PoolSize          int          `json:"pool_size"`
	PoolOwner         string       `json:"pool_owner,omitempty"` // org the warm pool registers its runners in; required with pool_size

	// lowerLabels is Labels lower-cased once, so matching allocates nothing per webhook.
	lowerLabels []string
}

// IdleWindow keeps IdleCount idle runners during every minute its cron expression matches in
// its time zone, e.g. "* 9-17 * * 1-5" for office hours (the semantics terraform-aws-github-runner users know).
type IdleWindow struct {
	Cron      string `json:"cron"`
	TimeZone  string `json:"time_zone"`
	IdleCount int    `json:"idle_count"`
}

// Limits of the runner-config schema.
const (
	maxRunnerConfigs = 100 // far above real deployments; bounds matching work per webhook
	maxLabels        = 50  // GitHub accepts no more custom labels per runner
)

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// launchTemplateIDPattern is EC2's launch template id: "lt-" and 17 (older: 8) hex digits.
var launchTemplateIDPattern = regexp.MustCompile(`^lt-[0-9a-f]{8,17}$`)

// LaunchTemplateIDs returns the distinct launch template ids of cfgs, sorted: the ids an
// instance's EC2-set template tag must be one of to count as this deployment's. The functions
// that list or remove instances need every config's id (the Terraform module renders them);
// a config without one is an error, or its instances would never be seen.
func LaunchTemplateIDs(cfgs []RunnerConfig) ([]string, error) {
	ids := make([]string, 0, len(cfgs))
	for _, c := range cfgs {
		if c.LaunchTemplateID == "" {
			return nil, fmt.Errorf("runner config %q: launch_template_id is required to recognise its instances", c.Key)
		}
		ids = append(ids, c.LaunchTemplateID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// LowerLabels returns the config's labels lower-cased (computed at parse time).
func (c *RunnerConfig) LowerLabels() []string { return c.lowerLabels }

// ParseRunnerConfigs decodes and validates the RUNNER_CONFIGS JSON array. Unknown fields are
// errors: a typo in Terraform must not silently change behaviour.
func ParseRunnerConfigs(data []byte) ([]RunnerConfig, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("runner configs: %w", err)
	}
	if len(raws) == 0 || len(raws) > maxRunnerConfigs {
		return nil, fmt.Errorf("runner configs: want 1 to %d, got %d", maxRunnerConfigs, len(raws))
	}
	cfgs := make([]RunnerConfig, len(raws))
	for i, raw := range raws {
		// An omitted max_runners means unlimited, not zero: zero would launch nothing and
		// leave every job of the config bouncing on its queue.
		cfgs[i].MaxRunners = -1
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfgs[i]); err != nil {
			return nil, fmt.Errorf("runner configs[%d]: %w", i, err)
		}
	}
	seen := map[string]bool{}
	for i := range cfgs {
		c := &cfgs[i]
		c.applyDefaults()
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("runner config %q: %w", c.Key, err)
		}
		if seen[c.Key] {
			return nil, fmt.Errorf("runner config %q: duplicate key", c.Key)
		}
		seen[c.Key] = true
	}
	slices.SortStableFunc(cfgs, func(a, b RunnerConfig) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return strings.Compare(a.Key, b.Key)
	})
	return cfgs, nil
}

func (c *RunnerConfig) applyDefaults() {
	if c.Match == "" {
		c.Match = MatchSubset
	}
	if c.Level == "" {
		c.Level = "org"
	}
	if c.CapacityType == "" {
		c.CapacityType = CapacitySpot
	}
	if c.AllocationStrategy == "" {
		if c.CapacityType == CapacitySpot {
			c.AllocationStrategy = "price-capacity-optimized"
		} else {
			c.AllocationStrategy = "lowest-price"
		}
	}
	if c.FailoverErrors == nil {
		c.FailoverErrors = slices.Clone(DefaultFailoverErrors)
	}
	if c.IdleEviction == "" {
		c.IdleEviction = EvictOldestFirst
	}
	if c.BootMinutes == 0 {
		c.BootMinutes = 5
	}
	if c.MinRunningMinutes == 0 {
		c.MinRunningMinutes = 5
	}
	c.lowerLabels = make([]string, len(c.Labels))
	for i, l := range c.Labels {
		c.lowerLabels[i] = strings.ToLower(strings.TrimSpace(l))
	}
}

func (c *RunnerConfig) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !keyPattern.MatchString(c.Key) {
		bad("key must match %s", keyPattern)
	}
	if len(c.Labels) == 0 || len(c.Labels) > maxLabels {
		bad("labels: want 1 to %d", maxLabels)
	}
	if c.LaunchTemplateID != "" && !launchTemplateIDPattern.MatchString(c.LaunchTemplateID) {
		bad("launch_template_id must be a launch template id (lt-…)")
	}
	for _, l := range c.lowerLabels {
		if l == "" {
			bad("labels: empty label")
		}
	}
	if !slices.Contains([]string{MatchExact, MatchSubset, MatchAny}, c.Match) {
		bad("match %q: want exact, subset or any", c.Match)
	}
	if c.Level != "org" && c.Level != "repo" {
		bad("level %q: want org or repo", c.Level)
	}
	if c.QueueURL == "" {
		bad("queue_url is required")
	}
	if c.CapacityType != CapacitySpot && c.CapacityType != CapacityOnDemand {
		bad("capacity_type %q: want spot or on-demand", c.CapacityType)
	}
	if c.MaxRunners < -1 {
		bad("max_runners %d: want -1 (unlimited) or more", c.MaxRunners)
	}
	if c.MinRunningMinutes < 0 || c.BootMinutes < 0 || c.PoolSize < 0 {
		bad("minimum_running_minutes, boot_minutes and pool_size must not be negative")
	}
	if c.MaxRunners >= 0 && c.PoolSize > c.MaxRunners {
		bad("pool_size %d exceeds max_runners %d", c.PoolSize, c.MaxRunners)
	}
	if c.PoolSize > 0 && (c.Level != "org" || c.PoolOwner == "" || strings.Contains(c.PoolOwner, "/")) {
		bad("pool_size needs level org and pool_owner naming the organization")
	}
	if c.IdleEviction != EvictOldestFirst && c.IdleEviction != EvictNewestFirst {
		bad("idle_eviction %q: want oldest_first or newest_first", c.IdleEviction)
	}
	for i, w := range c.IdleConfig {
		if err := w.Validate(); err != nil {
			bad("idle_config[%d]: %v", i, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// cronParser accepts standard five-field expressions and descriptors such as @daily.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Schedule parses the window's cron expression in its time zone.
func (w IdleWindow) Schedule() (cron.Schedule, *time.Location, error) {
	// time_zone names the zone: cron's own TZ= prefix would silently override it, and cron
	// v3.0.1 panics on a prefix with no field after it (found by FuzzIdleWindow).
	if strings.HasPrefix(w.Cron, "TZ=") || strings.HasPrefix(w.Cron, "CRON_TZ=") {
		return nil, nil, fmt.Errorf("cron %q: give the zone in time_zone, not in the expression", w.Cron)
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		return nil, nil, fmt.Errorf("time_zone %q: %w", w.TimeZone, err)
	}
	s, err := cronParser.Parse(w.Cron)
	if err != nil {
		return nil, nil, fmt.Errorf("cron %q: %w", w.Cron, err)
	}
	return s, loc, nil
}

// Validate checks the expression, zone and counts.
func (w IdleWindow) Validate() error {
	if _, _, err := w.Schedule(); err != nil {
		return err
	}
	if w.IdleCount < 0 {
		return fmt.Errorf("idle_count %d must not be negative", w.IdleCount)
	}
	return nil
}

// Active reports whether now's minute matches the window's expression in its time zone.
func (w IdleWindow) Active(now time.Time) (bool, error) {
	s, loc, err := w.Schedule()
	if err != nil {
		return false, err
	}
	minute := now.In(loc).Truncate(time.Minute)
	return s.Next(minute.Add(-time.Second)).Equal(minute), nil
}
