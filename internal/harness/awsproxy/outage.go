package awsproxy

// CapacityOutage makes every CreateFleet, spot and on-demand alike, answer "no capacity" the
// way EC2 does for an instant fleet when a zone runs out of an instance type: HTTP 200, no
// instances, InsufficientInstanceCapacity in its error set. The error item names no
// lifecycle, so one answer fits both markets (EC2 may omit it too).
func CapacityOutage(rate float64) (string, Fault) {
	return "ec2:CreateFleet", Fault{Rate: rate, Body: `<?xml version="1.0" encoding="UTF-8"?>
<CreateFleetResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>sandbox</requestId><fleetId>fleet-00000000-0000-4000-8000-000000000001</fleetId><errorSet><item><errorCode>InsufficientInstanceCapacity</errorCode><errorMessage>We currently do not have sufficient capacity in the Availability Zone you requested.</errorMessage></item></errorSet><fleetInstanceSet/></CreateFleetResponse>`}
}

// DescribeInstancesOutage makes DescribeInstances fail as EC2 does when its API is
// unavailable: 503 Unavailable, which the SDK retries and then returns.
func DescribeInstancesOutage(rate float64) (string, Fault) {
	return "ec2:DescribeInstances", Fault{Rate: rate, Status: 503, Code: "Unavailable", Message: "The service is unavailable. Please try again shortly."}
}
