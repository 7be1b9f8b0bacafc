package ec2fleet

import (
	"strconv"
	"strings"
)

// MaxJobsPerTag is how many job ids one ghr:job-id value holds: EC2 tag values are at most
// 256 characters and a job id (int64) at most 19 digits plus a comma.
const MaxJobsPerTag = 256 / 20

// The ghr:job-id tag. CreateFleet puts the same tags on every instance it starts, so one fleet
// launched for several jobs cannot give each instance its own job id without a CreateTags call
// per instance. Instead every instance of the fleet carries the fleet's job ids, ascending and
// comma-separated (at most MaxJobsPerTag of them); a fleet launched for one job carries just
// that id. What a value means for which jobs have a runner is scale-up's rule, written once in
// its package comment ("One runner per job").

// FormatJobIDs renders ascending job ids as a ghr:job-id tag value.
func FormatJobIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// ParseJobIDs reads a ghr:job-id tag value; malformed items are skipped.
func ParseJobIDs(v string) []int64 {
	var out []int64
	for s := range strings.SplitSeq(v, ",") {
		if id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}
