package ec2fleet

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// LaunchAPI creates fleets.
type LaunchAPI interface {
	CreateFleet(ctx context.Context, in *ec2.CreateFleetInput, opts ...func(*ec2.Options)) (*ec2.CreateFleetOutput, error)
}

// API is every EC2 call this package makes; *ec2.Client implements it.
type API interface {
	DescribeAPI
	TerminateAPI
	TagAPI
	LaunchAPI
}
