// Package cwagent is the sandbox's stand-in for the Amazon CloudWatch agent on runner hosts:
// `amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c ssm:<name>` reads the agent's JSON
// configuration from SSM with the instance's role (as the real agent does), then a detached
// process ships the configured log files to CloudWatch Logs, flushing every
// force_flush_interval and once more when it is told to stop. Only the logs section is
// honoured; metrics are the real agent's business and are not modelled.
package cwagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// defaultFlushInterval is the real agent's force_flush_interval default.
const defaultFlushInterval = 5 * time.Second

// Config is the part of the agent's configuration the stand-in honours.
type Config struct {
	Logs struct {
		LogsCollected struct {
			Files struct {
				CollectList []File `json:"collect_list"`
			} `json:"files"`
		} `json:"logs_collected"`
		ForceFlushInterval int `json:"force_flush_interval"` // seconds
	} `json:"logs"`
}

// File is one collect_list entry.
type File struct {
	FilePath      string `json:"file_path"`
	LogGroupName  string `json:"log_group_name"`
	LogStreamName string `json:"log_stream_name"`
}

// ParseConfig reads an agent configuration and checks what the stand-in needs of it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("agent config: %w", err)
	}
	files := c.Logs.LogsCollected.Files.CollectList
	if len(files) == 0 {
		return c, errors.New("agent config: logs.logs_collected.files.collect_list is empty")
	}
	for i, f := range files {
		if f.FilePath == "" || f.LogGroupName == "" {
			return c, fmt.Errorf("agent config: collect_list[%d] needs file_path and log_group_name", i)
		}
	}
	return c, nil
}

// FlushInterval is how often logs are shipped.
func (c Config) FlushInterval() time.Duration {
	if c.Logs.ForceFlushInterval > 0 {
		return time.Duration(c.Logs.ForceFlushInterval) * time.Second
	}
	return defaultFlushInterval
}

// StreamName expands the agent's placeholders; an empty name is the instance id, as the
// real agent's default.
func StreamName(pattern, instanceID, hostname string) string {
	if pattern == "" {
		return instanceID
	}
	return strings.NewReplacer("{instance_id}", instanceID, "{hostname}", hostname, "{local_hostname}", hostname).Replace(pattern)
}
