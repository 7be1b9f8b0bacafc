package syncer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Upload limits.
const (
	// DefaultPartSize: S3's minimum part is 5 MiB; 8 MiB keeps a 200 MB asset at 25 parts.
	DefaultPartSize = 8 << 20
	// DefaultConcurrency: the download is the bottleneck; two parts in flight keep the
	// upload off its critical path. Memory is (concurrency+1) × part size.
	DefaultConcurrency = 2
	// abortTimeout bounds the clean-up of a failed upload, which runs even when the caller's
	// context is already cancelled.
	abortTimeout = 30 * time.Second
)

// MultipartAPI is the part of the S3 client the uploader uses.
type MultipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, opts ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, opts ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ MultipartAPI = (*s3.Client)(nil)

// Uploader streams a body into one S3 object with a multipart upload, holding at most
// Concurrency+1 part buffers.
type Uploader struct {
	API         MultipartAPI
	PartSize    int // 0: DefaultPartSize
	Concurrency int // 0: DefaultConcurrency
}

// Upload writes body to bucket/key. verify runs after the last byte was read and before the
// upload is completed: an error from it (or from anything else) aborts the upload, and the
// object that was there before stays. It returns the bytes read.
func (u *Uploader) Upload(ctx context.Context, bucket, key, contentType string, meta map[string]string, body io.Reader, verify func(n int64) error) (int64, error) {
	created, err := u.API.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ContentType: aws.String(contentType),
		Metadata: meta, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return 0, fmt.Errorf("create multipart upload %s: %w", key, err)
	}
	id := created.UploadId
	parts, n, err := u.parts(ctx, bucket, key, id, body)
	if err == nil {
		err = verify(n)
	}
	if err == nil {
		_, err = u.API.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err != nil {
			err = fmt.Errorf("complete multipart upload %s: %w", key, err)
		}
	}
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		if _, aerr := u.API.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
		}); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort multipart upload %s: %w", key, aerr))
		}
		return n, err
	}
	return n, nil
}

// parts reads body into part buffers and uploads them concurrently. The reading loop waits
// for a free buffer, so a slow S3 slows the download instead of growing memory.
func (u *Uploader) parts(ctx context.Context, bucket, key string, id *string, body io.Reader) ([]types.CompletedPart, int64, error) {
	size, conc := u.PartSize, u.Concurrency
	if size <= 0 {
		size = DefaultPartSize
	}
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	free := make(chan []byte, conc+1)
	allocated := 0
	buffer := func() ([]byte, error) {
		if allocated <= conc { // allocate lazily: a small body needs one buffer
			select {
			case b := <-free:
				return b, nil
			default:
				allocated++
				return make([]byte, size), nil
			}
		}
		select {
		case b := <-free:
			return b, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		parts []types.CompletedPart
		total int64
	)
	for num := int32(1); ctx.Err() == nil; num++ {
		buf, err := buffer()
		if err != nil {
			break
		}
		m, last, rerr := fill(body, buf)
		if rerr != nil {
			cancel(fmt.Errorf("read %s: %w", key, rerr))
			break
		}
		if m == 0 && num > 1 { // the body ended exactly on a part boundary
			break
		}
		total += int64(m)
		wg.Add(1)
		go func(num int32, data []byte) {
			defer wg.Done()
			out, err := u.API.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(num),
				Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			free <- data[:cap(data)]
			if err != nil {
				cancel(fmt.Errorf("upload part %d of %s: %w", num, key, err))
				return
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
			mu.Unlock()
		}(num, buf[:m])
		if last {
			break
		}
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, total, err
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	return parts, total, nil
}

// fill reads until buf is full or the body ends. Unlike io.ReadFull it tells a clean end
// (io.EOF: last is true) from a body that broke off, even one failing with
// io.ErrUnexpectedEOF as net/http does on a dropped connection.
func fill(r io.Reader, buf []byte) (n int, last bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		switch {
		case err == io.EOF:
			return n, true, nil
		case err != nil:
			return n, false, err
		}
	}
	return n, false, nil
}
