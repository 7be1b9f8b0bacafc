package tfmodule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/release"
)

// fetchedZips publishes zips as release 0.0.1 (named and summed as `make release` does) on a
// GitHub simulator and fetches them with `ghr lambdas fetch`'s code into a new directory.
func fetchedZips(t *testing.T, zips string) string {
	t.Helper()
	pub := t.TempDir()
	for _, fn := range release.FunctionNames {
		b, err := os.ReadFile(filepath.Join(zips, fn+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pub, release.FunctionAsset(fn, "arm64")), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := release.WriteSums(pub)
	if err != nil {
		t.Fatal(err)
	}
	rel := ghsim.Release{Repo: release.Repo, Tag: "v0.0.1"}
	for _, name := range append(names, release.SumsFile) {
		b, err := os.ReadFile(filepath.Join(pub, name))
		if err != nil {
			t.Fatal(err)
		}
		rel.Assets = append(rel.Assets, ghsim.Asset{Name: name, Content: b})
	}
	srv, err := ghsim.Start(context.Background(), ghsim.Options{RunnerReleases: []ghsim.Release{ghsim.DefaultRunnerRelease(), rel}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	out := t.TempDir()
	if _, err := release.Fetch(context.Background(), release.FetchOptions{BaseURL: srv.URL, Version: "0.0.1", GOARCH: "arm64", Out: out}); err != nil {
		t.Fatal(err)
	}
	return out
}

// artifactsDeadline guards against a hung provider: ~20 resources apply and destroy in about a
// minute, but on a machine shared by many builds this took over 15.
const artifactsDeadline = 30 * time.Minute

// TestApplyFromEachArtifactSource deploys one function from a directory's zip, one from a
// fetched release and one from a versioned S3 object, and checks each runs the code it was
// given (Lambda's CodeSha256 is the zip's SHA-256).
func TestApplyFromEachArtifactSource(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), artifactsDeadline)
	defer cancel()
	moto := motoserver.Start(t)
	cfg := moto.AWSConfig()
	dir := fixtureZips(t)
	fetched := fetchedZips(t, dir)

	// The S3 source: a versioned bucket holding a zip that differs from the local ones.
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ghr-artifacts")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("ghr-artifacts"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	s3Zip, err := os.ReadFile(filepath.Join(dir, "webhook.zip"))
	if err != nil {
		t.Fatal(err)
	}
	put, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ghr-artifacts"), Key: aws.String("ghr/0.0.1/webhook_linux_arm64.zip"), Body: bytes.NewReader(s3Zip)})
	if err != nil {
		t.Fatal(err)
	}
	// moto deploys the key's latest object whatever S3ObjectVersion says (docs/relaxations.md),
	// so the test pins the only version and checks below that the module passed it on.

	ws := workspace(t, "internal/harness/tfmodule/testdata/artifacts")
	state := filepath.Join(ws.DataDir, "terraform.tfstate")
	varFile := filepath.Join(ws.DataDir, "artifacts.tfvars.json")
	writeJSON(t, varFile, map[string]any{
		"aws_endpoint": moto.URL,
		"dir_zip":      filepath.Join(dir, "cleanup.zip"),
		"fetched_zip":  filepath.Join(fetched, "pool.zip"),
		"s3":           map[string]string{"bucket": "ghr-artifacts", "key": "ghr/0.0.1/webhook_linux_arm64.zip", "version": aws.ToString(put.VersionId)},
	})
	//nolint:staticcheck // -state keeps the fixture directory free of state files
	if err := ws.TF.Apply(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("apply: %v", err)
	}
	lc := lambda.NewFromConfig(cfg)
	for fn, zip := range map[string]string{"ghr-art-dir": filepath.Join(dir, "cleanup.zip"), "ghr-art-release": filepath.Join(fetched, "pool.zip"), "ghr-art-s3": filepath.Join(dir, "webhook.zip")} {
		b, err := os.ReadFile(zip)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		got, err := lc.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(fn)})
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		if want := base64.StdEncoding.EncodeToString(sum[:]); aws.ToString(got.Configuration.CodeSha256) != want {
			t.Errorf("%s runs code %s, want %s (from %s)", fn, aws.ToString(got.Configuration.CodeSha256), want, zip)
		}
	}
	st, err := ws.TF.ShowStateFile(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	var pinned any
	for _, m := range st.Values.RootModule.ChildModules {
		for _, r := range m.Resources {
			if m.Address == "module.from_s3" && r.Type == "aws_lambda_function" {
				pinned = r.AttributeValues["s3_object_version"]
			}
		}
	}
	if pinned != aws.ToString(put.VersionId) {
		t.Errorf("module.from_s3 deployed object version %v, want the pinned %s", pinned, aws.ToString(put.VersionId))
	}
	//nolint:staticcheck // see Apply
	if err := ws.TF.Destroy(ctx, tfexec.State(state), tfexec.VarFile(varFile), tfexec.Refresh(false), tfexec.Parallelism(parallelism)); err != nil {
		t.Fatalf("destroy: %v", err)
	}
}
