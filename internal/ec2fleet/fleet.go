package ec2fleet

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/logging"
)

// onDemandStrategy is used when failing over from spot: the config's allocation strategy is
// a spot strategy (price-capacity-optimized), which on-demand does not accept.
const onDemandStrategy = "lowest-price"

// Spec is one launch request.
type Spec struct {
	LaunchTemplate     string // name, or id when it starts with "lt-"
	InstanceTypes      []string
	SubnetIDs          []string
	CapacityType       string // config.CapacitySpot or config.CapacityOnDemand
	AllocationStrategy string
	FailoverErrors     []string // spot error codes that make the rest go on-demand
	Count              int
	Tags               map[string]string // on instances and their volumes, at launch
	// ClientToken makes EC2 answer a repeated request with the first request's fleet instead
	// of launching again. Each capacity phase appends its own suffix. "" sends none.
	ClientToken string
}

// SpecFor fills a Spec from a runner config.
func SpecFor(c *config.RunnerConfig, count int, tags map[string]string, token string) Spec {
	return Spec{
		LaunchTemplate: c.LaunchTemplate, InstanceTypes: c.InstanceTypes, SubnetIDs: c.SubnetIDs,
		CapacityType: c.CapacityType, AllocationStrategy: c.AllocationStrategy,
		FailoverErrors: c.FailoverErrors, Count: count, Tags: tags, ClientToken: token,
	}
}

// Launched is one instance the fleet started.
type Launched struct {
	ID           string
	InstanceType string
	SubnetID     string
	CapacityType string
}

// PoolError is one pool's refusal, as CreateFleet reports it in its answer.
type PoolError struct {
	Offering Offering // zero when EC2 did not say which pool
	Code     string
	Message  string
}

// Result is what a launch produced. Instances holds every instance started, even when Launch
// also returns an error, so the caller keeps (and registers or terminates) them.
type Result struct {
	Instances  []Launched
	Errors     []PoolError
	FailedOver bool // part of the request went on-demand after spot failed
}

// Fleet launches instances with instant CreateFleet requests.
type Fleet struct {
	API    LaunchAPI
	Cache  *OfferingCache
	Logger *slog.Logger
}

// Launch starts spec.Count instances: one spot request over every pool not known to be dry
// (or straight to on-demand when all are), then one on-demand request for the shortfall when
// spot failed with a failover error. It returns a *ShortfallError when fewer instances
// started than asked, and the EC2 error when a request failed outright.
func (f *Fleet) Launch(ctx context.Context, spec Spec) (Result, error) {
	var res Result
	if spec.Count <= 0 {
		return res, nil
	}
	capacity := spec.CapacityType
	if capacity == config.CapacitySpot {
		overrides, skipped := f.overrides(spec, config.CapacitySpot)
		if len(overrides) > 0 {
			if err := f.request(ctx, spec, config.CapacitySpot, spec.AllocationStrategy, overrides, spec.Count, &res); err != nil {
				return res, err
			}
		}
		missing := spec.Count - len(res.Instances)
		if missing == 0 {
			return res, nil
		}
		if !f.shouldFailOver(spec, res.Errors, skipped) {
			return res, shortfall(spec.Count, res)
		}
		res.FailedOver = true
		capacity = config.CapacityOnDemand
	}
	missing := spec.Count - len(res.Instances)
	overrides, _ := f.overrides(spec, config.CapacityOnDemand)
	if len(overrides) == 0 {
		return res, shortfall(spec.Count, res)
	}
	strategy := spec.AllocationStrategy
	if spec.CapacityType == config.CapacitySpot {
		strategy = onDemandStrategy
	}
	if err := f.request(ctx, spec, capacity, strategy, overrides, missing, &res); err != nil {
		return res, err
	}
	if len(res.Instances) < spec.Count {
		return res, shortfall(spec.Count, res)
	}
	return res, nil
}

// overrides lists instance types × subnets minus the pools known to be dry. skippedCodes are
// the codes that made the skipped pools dry.
func (f *Fleet) overrides(spec Spec, capacity string) (out []types.FleetLaunchTemplateOverridesRequest, skippedCodes []string) {
	for _, it := range spec.InstanceTypes {
		for _, sn := range spec.SubnetIDs {
			if f.Cache != nil {
				if code, dry := f.Cache.Out(Offering{InstanceType: it, SubnetID: sn, CapacityType: capacity}); dry {
					skippedCodes = append(skippedCodes, code)
					continue
				}
			}
			out = append(out, types.FleetLaunchTemplateOverridesRequest{
				InstanceType: types.InstanceType(it), SubnetId: aws.String(sn),
			})
		}
	}
	return out, skippedCodes
}

// shouldFailOver: spot answered (or the cache remembers) one of the configured failover codes.
func (f *Fleet) shouldFailOver(spec Spec, errs []PoolError, skippedCodes []string) bool {
	for _, e := range errs {
		if slices.Contains(spec.FailoverErrors, e.Code) {
			return true
		}
	}
	for _, code := range skippedCodes {
		if slices.Contains(spec.FailoverErrors, code) {
			return true
		}
	}
	return false
}

func (f *Fleet) request(ctx context.Context, spec Spec, capacity, strategy string, overrides []types.FleetLaunchTemplateOverridesRequest, count int, res *Result) error {
	in := &ec2.CreateFleetInput{
		Type: types.FleetTypeInstant,
		LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
			LaunchTemplateSpecification: templateSpec(spec.LaunchTemplate),
			Overrides:                   overrides,
		}},
		TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{
			TotalTargetCapacity:       aws.Int32(int32(count)),
			DefaultTargetCapacityType: types.DefaultTargetCapacityType(capacity),
		},
		TagSpecifications: tagSpecs(spec.Tags),
	}
	if capacity == config.CapacitySpot {
		in.SpotOptions = &types.SpotOptionsRequest{AllocationStrategy: types.SpotAllocationStrategy(strategy)}
	} else {
		in.OnDemandOptions = &types.OnDemandOptionsRequest{AllocationStrategy: types.FleetOnDemandAllocationStrategy(strategy)}
	}
	if spec.ClientToken != "" {
		in.ClientToken = aws.String(spec.ClientToken + "-" + capacity)
	}
	before := len(res.Instances)
	requested := time.Now()
	out, err := f.API.CreateFleet(ctx, in)
	if err != nil {
		return fmt.Errorf("create %s fleet of %d: %w", capacity, count, err)
	}
	returned := time.Now()
	for _, i := range out.Instances {
		sn := aws.ToString(i.SubnetId)
		if sn == "" && i.LaunchTemplateAndOverrides != nil && i.LaunchTemplateAndOverrides.Overrides != nil {
			sn = aws.ToString(i.LaunchTemplateAndOverrides.Overrides.SubnetId)
		}
		lc := capacity
		if i.Lifecycle != "" {
			lc = string(i.Lifecycle)
		}
		for _, id := range i.InstanceIds {
			res.Instances = append(res.Instances, Launched{ID: id, InstanceType: string(i.InstanceType), SubnetID: sn, CapacityType: lc})
		}
	}
	for _, e := range out.Errors {
		pe := PoolError{Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.ErrorMessage)}
		if lto := e.LaunchTemplateAndOverrides; lto != nil && lto.Overrides != nil {
			pe.Offering = Offering{InstanceType: string(lto.Overrides.InstanceType), SubnetID: aws.ToString(lto.Overrides.SubnetId), CapacityType: capacity}
		}
		res.Errors = append(res.Errors, pe)
		f.remember(spec, pe)
	}
	if f.Logger != nil {
		// The launch's milestones for the per-hop latency report, paired by instance id.
		var ids []string
		for _, i := range res.Instances[before:] {
			ids = append(ids, i.ID)
		}
		f.Logger.Info("fleet", "capacity_type", capacity, "want", count, "instance_ids", ids, "pool_errors", len(out.Errors),
			logging.KeyFleetRequestedAt, requested, logging.KeyFleetReturnedAt, returned)
	}
	return nil
}

// remember marks a pool dry when its error is about capacity (or is a configured failover
// code): the next launch skips it instead of asking again.
func (f *Fleet) remember(spec Spec, e PoolError) {
	if f.Cache == nil || e.Offering.InstanceType == "" || e.Offering.SubnetID == "" {
		return
	}
	if awserr.ClassifyCode(e.Code) != awserr.Capacity && !slices.Contains(spec.FailoverErrors, e.Code) {
		return
	}
	f.Cache.MarkOut(e.Offering, e.Code)
	if f.Logger != nil {
		f.Logger.Info("pool out of capacity", "instance_type", e.Offering.InstanceType, "subnet", e.Offering.SubnetID,
			"capacity_type", e.Offering.CapacityType, "code", e.Code)
	}
}

func templateSpec(name string) *types.FleetLaunchTemplateSpecificationRequest {
	s := &types.FleetLaunchTemplateSpecificationRequest{Version: aws.String("$Default")}
	if strings.HasPrefix(name, "lt-") {
		s.LaunchTemplateId = aws.String(name)
	} else {
		s.LaunchTemplateName = aws.String(name)
	}
	return s
}

func tagSpecs(kv map[string]string) []types.TagSpecification {
	if len(kv) == 0 {
		return nil
	}
	ts := ec2Tags(kv)
	return []types.TagSpecification{
		{ResourceType: types.ResourceTypeInstance, Tags: ts},
		{ResourceType: types.ResourceTypeVolume, Tags: ts},
	}
}

// ShortfallError says a launch started fewer instances than asked, and why.
type ShortfallError struct {
	Want, Got int
	Codes     map[string]int // error code → how many pools answered it
}

func shortfall(want int, res Result) error {
	e := &ShortfallError{Want: want, Got: len(res.Instances), Codes: map[string]int{}}
	for _, pe := range res.Errors {
		e.Codes[pe.Code]++
	}
	return e
}

func (e *ShortfallError) Error() string {
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(e.Codes)) {
		parts = append(parts, fmt.Sprintf("%s×%d", c, e.Codes[c]))
	}
	if len(parts) == 0 {
		parts = []string{"no pool available"}
	}
	return fmt.Sprintf("launched %d of %d: %s", e.Got, e.Want, strings.Join(parts, ", "))
}

// AWSClass classifies the shortfall for awserr.Classify: a configuration mistake when every
// pool refused for one, else the most actionable class seen (quota, throttling), else capacity.
func (e *ShortfallError) AWSClass() awserr.Class {
	if len(e.Codes) == 0 {
		return awserr.Capacity
	}
	seen := map[awserr.Class]bool{}
	for code := range e.Codes {
		seen[awserr.ClassifyCode(code)] = true
	}
	switch {
	case len(seen) == 1 && seen[awserr.InvalidConfig]:
		return awserr.InvalidConfig
	case seen[awserr.Quota]:
		return awserr.Quota
	case seen[awserr.Throttling]:
		return awserr.Throttling
	case seen[awserr.Capacity]:
		return awserr.Capacity
	default:
		return awserr.Other
	}
}
