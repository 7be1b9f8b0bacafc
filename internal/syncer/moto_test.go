package syncer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// motoPart is S3's smallest allowed non-final part, which moto enforces like S3.
const motoPart = 5 << 20

// TestSyncMoto runs the syncer against moto_server's S3 and a fake GitHub: the first sync
// uploads (multipart, three parts), the second downloads nothing, and a release whose
// checksum does not match leaves the stored object as it was.
func TestSyncMoto(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Start(t)
	client := s3.NewFromConfig(moto.AWSConfig(), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ghr-dist")}); err != nil {
		t.Fatal(err)
	}
	g := newFakeGitHub(t)
	rel := runnerRelease("2.321.0", 2*motoPart+4321, 1, true, "linux-x64", "linux-arm64")
	g.publish(rel, true)
	bucket := &Bucket{API: client, Name: "ghr-dist", Uploader: &Uploader{API: client, PartSize: motoPart}}
	s := newSyncer(g, bucket, nil, "latest", "linux-x64", "linux-arm64")

	if _, err := s.Sync(ctx); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	for i, target := range []string{"linux-x64", "linux-arm64"} {
		body, meta := getObject(t, client, Key(target))
		if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != rel.assets[i].sum() {
			t.Errorf("%s: stored bytes differ from the asset", target)
		}
		if meta[MetaVersion] != "2.321.0" || meta[MetaSHA256] != rel.assets[i].sum() {
			t.Errorf("%s: metadata %v", target, meta)
		}
	}

	res, err := s.Sync(ctx)
	if err != nil || res.Targets[0].Action != ActionCurrent || res.Targets[1].Action != ActionCurrent {
		t.Fatalf("second sync: %+v, %v", res, err)
	}
	if n := g.downloads.Load(); n != 2 {
		t.Errorf("%d downloads after two syncs, want 2", n)
	}

	bad := runnerRelease("2.322.0", motoPart+99, 5, false, "linux-x64", "linux-arm64")
	bad.body = strings.ReplaceAll(bad.body, "<!-- BEGIN SHA linux-x64 -->", "<!-- BEGIN SHA linux-x64 -->"+strings.Repeat("f", 64)+"<!-- END SHA linux-x64 --><!--")
	g.publish(bad, true)
	before, _ := getObject(t, client, Key("linux-x64"))
	res, err = s.Sync(ctx)
	if !errors.Is(err, ErrChecksum) || res.Targets[0].Action != ActionFailed || res.Targets[1].Action != ActionUploaded {
		t.Fatalf("sync of a bad release: %+v, %v", res, err)
	}
	after, meta := getObject(t, client, Key("linux-x64"))
	if !bytes.Equal(before, after) || meta[MetaVersion] != "2.321.0" {
		t.Errorf("checksum mismatch replaced the object: version %s", meta[MetaVersion])
	}
	if _, meta := getObject(t, client, Key("linux-arm64")); meta[MetaVersion] != "2.322.0" {
		t.Errorf("the good target was not updated: %v", meta)
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("ghr-dist")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("open multipart uploads %d (%v): the failed one must be aborted", len(ups.Uploads), err)
	}
}

func getObject(t *testing.T, c *s3.Client, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("ghr-dist"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out.Metadata
}
