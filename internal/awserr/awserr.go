// Package awserr classifies AWS errors in one place, so every ghr component reacts the same
// way to the same failure: back off on throttling, move on to other pools on capacity, stop
// and shout on configuration mistakes. Classification uses the smithy API error code
// (errors.As), never the message text.
package awserr

import (
	"errors"

	"github.com/aws/smithy-go"
)

// Class is what a caller should do about an error.
type Class int

// Error classes.
const (
	Other         Class = iota // unknown or transient (network, 5xx): retry later
	Throttling                 // the API asked us to slow down: retry later, do not hammer
	Capacity                   // the pool (instance type, zone, capacity type) has no room: try another pool
	Quota                      // an account limit is reached: retry later, an operator may need to raise it
	InvalidConfig              // the request can never succeed as written: log loudly, do not retry in a loop
	NotFound                   // the resource does not exist
	AlreadyExists              // the resource exists already
)

func (c Class) String() string {
	switch c {
	case Throttling:
		return "throttling"
	case Capacity:
		return "capacity"
	case Quota:
		return "quota"
	case InvalidConfig:
		return "invalid_config"
	case NotFound:
		return "not_found"
	case AlreadyExists:
		return "already_exists"
	default:
		return "other"
	}
}

// codes maps AWS error codes (EC2, SSM, KMS, and the generic ones) to classes. EC2 CreateFleet
// reports per-pool failures as codes in its answer rather than as errors; ClassifyCode reads
// those with the same table.
var codes = map[string]Class{
	// Throttling.
	"Throttling":                             Throttling,
	"ThrottlingException":                    Throttling,
	"ThrottledException":                     Throttling,
	"RequestLimitExceeded":                   Throttling,
	"RequestThrottled":                       Throttling,
	"RequestThrottledException":              Throttling,
	"TooManyRequestsException":               Throttling,
	"TooManyUpdates":                         Throttling,
	"SlowDown":                               Throttling,
	"EC2ThrottledException":                  Throttling,
	"PriorRequestNotComplete":                Throttling,
	"ProvisionedThroughputExceededException": Throttling,

	// Capacity of one pool.
	"InsufficientInstanceCapacity":         Capacity,
	"InsufficientCapacity":                 Capacity,
	"InsufficientHostCapacity":             Capacity,
	"InsufficientReservedInstanceCapacity": Capacity,
	"InsufficientCapacityOnHost":           Capacity,
	"UnfulfillableCapacity":                Capacity,
	"InsufficientFreeAddressesInSubnet":    Capacity, // the subnet is out of addresses: another subnet may not be
	"SpotMaxPriceTooLow":                   Capacity,
	"Unsupported":                          Capacity, // the instance type is not offered in that zone

	// Account quotas.
	"VcpuLimitExceeded":                Quota,
	"InstanceLimitExceeded":            Quota,
	"MaxSpotInstanceCountExceeded":     Quota,
	"MaxSpotFleetRequestCountExceeded": Quota,
	"MaxFleetCountExceeded":            Quota,
	"ParameterLimitExceeded":           Quota,
	"ServiceQuotaExceededException":    Quota,
	"LimitExceededException":           Quota,
	"AddressLimitExceeded":             Quota,

	// Configuration mistakes.
	"InvalidLaunchTemplateName.NotFoundException":  InvalidConfig,
	"InvalidLaunchTemplateName.MalformedException": InvalidConfig,
	"InvalidLaunchTemplateId.NotFound":             InvalidConfig,
	"InvalidLaunchTemplateId.Malformed":            InvalidConfig,
	"InvalidLaunchTemplateId.VersionNotFound":      InvalidConfig,
	"InvalidSubnetID.NotFound":                     InvalidConfig,
	"InvalidSubnetID.Malformed":                    InvalidConfig,
	"InvalidAMIID.NotFound":                        InvalidConfig,
	"InvalidAMIID.Malformed":                       InvalidConfig,
	"InvalidGroup.NotFound":                        InvalidConfig,
	"InvalidKeyPair.NotFound":                      InvalidConfig,
	"InvalidParameter":                             InvalidConfig,
	"InvalidParameterValue":                        InvalidConfig,
	"InvalidParameterCombination":                  InvalidConfig,
	"InvalidFleetConfiguration":                    InvalidConfig,
	"InvalidInstanceType":                          InvalidConfig,
	"UnauthorizedOperation":                        InvalidConfig,
	"AccessDenied":                                 InvalidConfig,
	"AccessDeniedException":                        InvalidConfig,
	"InvalidKeyId":                                 InvalidConfig,
	"KMSAccessDeniedException":                     InvalidConfig,
	"ValidationException":                          InvalidConfig,
	"IdempotentParameterMismatch":                  InvalidConfig,

	// Existence.
	"ParameterNotFound":          NotFound,
	"InvalidInstanceID.NotFound": NotFound,
	"NotFound":                   NotFound, // S3 HeadObject on a missing key
	"NoSuchKey":                  NotFound,
	"NoSuchUpload":               NotFound,
	"ParameterAlreadyExists":     AlreadyExists,
}

// Classed is implemented by errors that summarise several AWS answers (a fleet that launched
// part of its request reports per-pool codes, not one API error) and know their class.
type Classed interface {
	error
	AWSClass() Class
}

// Classify returns the class of err (Other when it carries no known AWS error code).
func Classify(err error) Class {
	if err == nil {
		return Other
	}
	var c Classed
	if errors.As(err, &c) {
		return c.AWSClass()
	}
	return ClassifyCode(Code(err))
}

// ClassifyCode returns the class of an AWS error code.
func ClassifyCode(code string) Class {
	if c, ok := codes[code]; ok {
		return c
	}
	return Other
}

// Code returns the AWS error code carried by err, or "".
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Retryable reports whether retrying the same request later may succeed.
func Retryable(c Class) bool {
	return c == Other || c == Throttling || c == Quota || c == Capacity
}
