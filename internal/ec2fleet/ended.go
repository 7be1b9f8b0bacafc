package ec2fleet

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// normalEnds are the state reasons of an instance that ended by its own or a caller's hand:
// an ephemeral runner powering off after its job, or a TerminateInstances. Every other
// reason (Client.InternalError for a volume key the launcher may not use, Server.* for
// capacity and spot reclaims) means EC2 ended it, whatever it was doing.
var normalEnds = []string{"Client.InstanceInitiatedShutdown", "Client.UserInitiatedShutdown"}

// EndedByPlatform reports whether an instance's state reason code says EC2 ended it. An
// empty code (an instance EC2 gives no reason for) is not a normal end: a caller that must
// not lose work treats the unknown as the worse case.
func EndedByPlatform(code string) bool {
	return !slices.Contains(normalEnds, code)
}

// Killed returns which of ids EC2 ended (EndedByPlatform), or no longer lists at all, among
// instances that left the live states; instances still live are left out. One call per
// maxIDsPerCall ids, filtered by id so an id EC2 has forgotten is not an error.
func Killed(ctx context.Context, api DescribeAPI, ids []string) (map[string]bool, error) {
	killed := make(map[string]bool, len(ids))
	for _, id := range ids {
		killed[id] = true
	}
	for chunk := range slices.Chunk(ids, maxIDsPerCall) {
		in := &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: chunk}}}
		for {
			page, err := api.DescribeInstances(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("describe ended instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, i := range r.Instances {
					id := aws.ToString(i.InstanceId)
					var state, code string
					if i.State != nil {
						state = string(i.State.Name)
					}
					if i.StateReason != nil {
						code = aws.ToString(i.StateReason.Code)
					}
					if slices.Contains(LiveStates, state) || !EndedByPlatform(code) {
						delete(killed, id)
					}
				}
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return killed, nil
}
