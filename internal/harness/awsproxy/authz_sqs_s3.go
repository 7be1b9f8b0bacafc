package awsproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// sqsActions are the SQS actions checked on the queue's ARN with its queue policy; a batch
// call is authorized as its single action.
var sqsActions = map[string]string{
	"sqs:ReceiveMessage": "sqs:ReceiveMessage", "sqs:DeleteMessage": "sqs:DeleteMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
	"sqs:ChangeMessageVisibility": "sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"sqs:SendMessage": "sqs:SendMessage", "sqs:SendMessageBatch": "sqs:SendMessage", "sqs:GetQueueAttributes": "sqs:GetQueueAttributes",
	"sqs:GetQueueUrl": "sqs:GetQueueUrl", "sqs:ListDeadLetterSourceQueues": "sqs:ListDeadLetterSourceQueues", "sqs:PurgeQueue": "sqs:PurgeQueue",
}

func (p *Proxy) sqsChecks(ctx context.Context, action string, body []byte, who caller) ([]check, bool, error) {
	iamAction, ok := sqsActions[action]
	if !ok {
		return nil, false, nil
	}
	var req struct{ QueueUrl, QueueName, QueueOwnerAWSAccountId string }
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, true, fmt.Errorf("sqs request: %w", err)
	}
	account, name := who.account(), req.QueueName
	if req.QueueOwnerAWSAccountId != "" {
		account = req.QueueOwnerAWSAccountId
	}
	if req.QueueUrl != "" {
		u, err := url.Parse(req.QueueUrl)
		if err != nil {
			return nil, true, fmt.Errorf("queue url %q: %w", req.QueueUrl, err)
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) != 2 {
			return nil, true, fmt.Errorf("queue url %q has no account and name", req.QueueUrl)
		}
		account, name = parts[0], parts[1]
	}
	arn := "arn:aws:sqs:" + who.Region + ":" + account + ":" + name
	policy, err := p.queuePolicy(ctx, who.Region, req.QueueUrl)
	if err != nil {
		return nil, true, err
	}
	return []check{{Action: iamAction, Resource: arn, ResourcePolicy: policy}}, true, nil
}

// queuePolicy is a queue's access policy, nil without one (or for a queue that does not
// exist, which the emulator then refuses on its own).
func (p *Proxy) queuePolicy(ctx context.Context, region, queueURL string) (json.RawMessage, error) {
	if queueURL == "" {
		return nil, nil
	}
	v, err := p.memo("queue "+queueURL, func() (any, error) {
		out, err := sqs.NewFromConfig(p.admin(region)).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNamePolicy}})
		var nf *sqstypes.QueueDoesNotExist
		if errors.As(err, &nf) {
			return json.RawMessage(nil), nil
		}
		if err != nil {
			return nil, fmt.Errorf("queue %s policy: %w", queueURL, err)
		}
		if pol := out.Attributes[string(sqstypes.QueueAttributeNamePolicy)]; pol != "" {
			return json.RawMessage(pol), nil
		}
		return json.RawMessage(nil), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(json.RawMessage), nil
}

// s3Checks maps path-style object and bucket requests to S3's actions on object and bucket
// ARNs, with the bucket policy, and the KMS use S3 makes for SSE-KMS objects.
func (p *Proxy) s3Checks(ctx context.Context, r *http.Request, who caller) ([]check, bool, error) {
	bucket, objectKey, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket == "" {
		return nil, false, nil
	}
	q := r.URL.Query()
	bucketARN := "arn:aws:s3:::" + bucket
	objectARN := bucketARN + "/" + objectKey
	var act, resource string
	cx := map[string][]string{}
	switch {
	case objectKey == "" && (r.Method == http.MethodGet && len(q) <= 1 && (q.Has("list-type") || len(q) == 0) || r.Method == http.MethodGet && q.Has("prefix") || r.Method == http.MethodHead):
		act, resource = "s3:ListBucket", bucketARN
		if q.Has("prefix") {
			cx["s3:prefix"] = []string{q.Get("prefix")}
		}
	case objectKey == "" && r.Method == http.MethodGet && q.Has("location"):
		act, resource = "s3:GetBucketLocation", bucketARN
	case objectKey == "":
		return nil, false, nil
	case q.Has("tagging"):
		act, resource = map[string]string{http.MethodGet: "s3:GetObjectTagging", http.MethodPut: "s3:PutObjectTagging", http.MethodDelete: "s3:DeleteObjectTagging"}[r.Method], objectARN
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		act, resource = "s3:AbortMultipartUpload", objectARN
	case r.Method == http.MethodGet && q.Has("uploadId"):
		act, resource = "s3:ListMultipartUploadParts", objectARN
	case r.Method == http.MethodGet, r.Method == http.MethodHead:
		act, resource = "s3:GetObject", objectARN
	case r.Method == http.MethodPut, r.Method == http.MethodPost:
		act, resource = "s3:PutObject", objectARN
	case r.Method == http.MethodDelete:
		act, resource = "s3:DeleteObject", objectARN
	}
	if act == "" {
		return nil, false, nil
	}
	policy, err := p.bucketPolicy(ctx, who.Region, bucket)
	if err != nil {
		return nil, true, err
	}
	out := []check{{Action: act, Resource: resource, Context: cx, ResourcePolicy: policy}}
	keyID, keyAction := "", ""
	switch act {
	case "s3:PutObject":
		// A new object (or upload) is encrypted with the key the request names, else the bucket's default.
		if r.Method == http.MethodPut && q.Has("partNumber") || r.Method == http.MethodPost && q.Has("uploadId") {
			break
		}
		keyID, keyAction = r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"), "kms:GenerateDataKey"
		if keyID == "" && r.Header.Get("X-Amz-Server-Side-Encryption") == "" {
			keyID, err = p.bucketKey(ctx, who.Region, bucket)
		} else if keyID == "" && r.Header.Get("X-Amz-Server-Side-Encryption") == string(s3types.ServerSideEncryptionAwsKms) {
			keyID = "alias/aws/s3"
		}
	case "s3:GetObject":
		keyID, keyAction = "", "kms:Decrypt"
		head, herr := s3.NewFromConfig(p.admin(who.Region), func(o *s3.Options) { o.UsePathStyle = true }).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(objectKey)})
		if herr == nil && head.ServerSideEncryption == s3types.ServerSideEncryptionAwsKms {
			keyID = firstNonEmpty(aws.ToString(head.SSEKMSKeyId), "alias/aws/s3")
		}
	}
	if err != nil {
		return nil, true, err
	}
	if keyID != "" {
		kc, err := p.keyChecks(ctx, who, keyID, "s3", []string{keyAction}, map[string]string{"aws:s3:arn": objectARN})
		if err != nil {
			return nil, true, err
		}
		out = append(out, kc...)
	}
	return out, true, nil
}

// bucketPolicy is a bucket's policy, nil without one.
func (p *Proxy) bucketPolicy(ctx context.Context, region, bucket string) (json.RawMessage, error) {
	v, err := p.memo("bucket policy "+bucket, func() (any, error) {
		out, err := s3.NewFromConfig(p.admin(region), func(o *s3.Options) { o.UsePathStyle = true }).GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if err != nil {
			if absent(err, "NoSuchBucketPolicy", "NoSuchBucket") {
				return json.RawMessage(nil), nil
			}
			return nil, fmt.Errorf("bucket %s policy: %w", bucket, err)
		}
		return json.RawMessage(aws.ToString(out.Policy)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(json.RawMessage), nil
}

// bucketKey is the KMS key of a bucket's default SSE-KMS encryption, "" for none or SSE-S3.
func (p *Proxy) bucketKey(ctx context.Context, region, bucket string) (string, error) {
	v, err := p.memo("bucket key "+bucket, func() (any, error) {
		out, err := s3.NewFromConfig(p.admin(region), func(o *s3.Options) { o.UsePathStyle = true }).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
		if err != nil {
			if absent(err, "ServerSideEncryptionConfigurationNotFoundError", "NoSuchBucket") {
				return "", nil
			}
			return nil, fmt.Errorf("bucket %s encryption: %w", bucket, err)
		}
		for _, rule := range out.ServerSideEncryptionConfiguration.Rules {
			if d := rule.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm == s3types.ServerSideEncryptionAwsKms {
				return firstNonEmpty(aws.ToString(d.KMSMasterKeyID), "alias/aws/s3"), nil
			}
		}
		return "", nil
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func absent(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
