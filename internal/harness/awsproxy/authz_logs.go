package awsproxy

import (
	"encoding/json"
	"fmt"
)

// logsStreamActions are the CloudWatch Logs actions a runner's agent makes, authorized on the
// log stream's ARN (arn:aws:logs:region:account:log-group:NAME:log-stream:STREAM);
// DescribeLogStreams is on the group's (…:log-group:NAME:*). Log groups have no resource
// policy of their own that applies to these calls.
var logsStreamActions = map[string]bool{"logs:CreateLogStream": true, "logs:PutLogEvents": true}

func (p *Proxy) logsChecks(action string, body []byte, who caller) ([]check, bool, error) {
	if !logsStreamActions[action] && action != "logs:DescribeLogStreams" {
		return nil, false, nil
	}
	var req struct{ LogGroupName, LogStreamName string }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, true, fmt.Errorf("logs request: %w", err)
	}
	group := "arn:aws:logs:" + who.Region + ":" + who.account() + ":log-group:" + req.LogGroupName
	if !logsStreamActions[action] {
		return []check{{Action: action, Resource: group + ":*"}}, true, nil
	}
	return []check{{Action: action, Resource: group + ":log-stream:" + req.LogStreamName}}, true, nil
}
