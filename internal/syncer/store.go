package syncer

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghr-dev/ghr/internal/awserr"
)

// S3API is the part of the S3 client the bucket uses.
type S3API interface {
	MultipartAPI
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Bucket is the dist bucket.
type Bucket struct {
	API      S3API
	Name     string
	Uploader *Uploader // nil: an Uploader with the defaults over API
}

var _ Store = (*Bucket)(nil)

// Current reads the object's metadata; ok is false when there is no object.
func (b *Bucket) Current(ctx context.Context, key string) (Object, bool, error) {
	out, err := b.API.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if awserr.Classify(err) == awserr.NotFound {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("head s3://%s/%s: %w", b.Name, key, err)
	}
	return Object{Version: out.Metadata[MetaVersion], SHA256: out.Metadata[MetaSHA256]}, true, nil
}

// Put streams body into the object; see Uploader.Upload.
func (b *Bucket) Put(ctx context.Context, key, contentType string, meta map[string]string, body io.Reader, verify func(int64) error) (int64, error) {
	u := b.Uploader
	if u == nil {
		u = &Uploader{API: b.API}
	}
	return u.Upload(ctx, b.Name, key, contentType, meta, body, verify)
}
