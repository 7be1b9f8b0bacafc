package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ghr-dev/ghr/internal/doctor"
)

func init() {
	register("doctor", "-prefix P -region R [-json]", "read-only preflight of a deployment: App, webhook, subnets, instance types, concurrency, archive, roles", runDoctor)
}

func runDoctor(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("doctor")
	prefix := fs.String("prefix", "", "the module's prefix")
	region := fs.String("region", "", "the deployment's AWS region (required; AWS_ENDPOINT_URL is honoured)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	if !prefixRule.MatchString(*prefix) {
		return usageError{"-prefix: the module's prefix (2 to 24 lower-case letters, digits or hyphens)"}
	}
	if *region == "" {
		return usageError{"-region: required (no default region)"}
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(*region))
	if err != nil {
		return fmt.Errorf("aws config: %w", err)
	}
	d, err := doctor.Load(ctx, cfg, *prefix)
	if err != nil {
		return err
	}
	results := doctor.Run(ctx, d)
	failed := 0
	for _, r := range results {
		if !r.OK {
			failed++
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(results, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, r := range results {
			mark := "ok  "
			if !r.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(stdout, "%s  %-26s %s\n", mark, r.Check, r.Detail)
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d of %d checks failed", failed, len(results))
	}
	return nil
}
