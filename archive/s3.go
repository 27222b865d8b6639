package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3 is an archive in an S3 bucket or an S3-compatible store (MinIO, Ceph, Versity
// Gateway, …).
type S3 struct {
	client    *s3.Client
	bucket    string
	prefix    string
	retention time.Duration
	now       func() time.Time
	retries   *atomic.Int64
}

// Retries is the number of requests the S3 client retried (a throttled or failed request
// sent again), for metrics.
func (a *S3) Retries() int64 { return a.retries.Load() }

// countingRetryer counts the retries of the retryer it wraps: the SDK asks for a delay
// once before each retry.
type countingRetryer struct {
	aws.Retryer
	n *atomic.Int64
}

func (r countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.n.Add(1)
	return r.Retryer.RetryDelay(attempt, err)
}

// OpenS3 opens s3://BUCKET/PREFIX. Credentials and region come from the standard AWS
// chain (environment, shared config, instance roles). The endpoint of an S3-compatible
// store comes from the query (endpoint=http://host:port) or AWS_ENDPOINT_URL_S3; with a
// custom endpoint, path-style addressing is used (path_style=false turns it off). Query
// options: retention=10y (Object Lock, COMPLIANCE mode, for buckets with Object Lock),
// max_attempts=N (default 6; retries with exponential backoff and jitter on throttling,
// 5xx and timeouts), region=NAME.
func OpenS3(ctx context.Context, raw string) (*S3, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("archive %q: want s3://BUCKET/PREFIX", raw)
	}
	q := u.Query()
	attempts := 6
	if v := q.Get("max_attempts"); v != "" {
		if attempts, err = strconv.Atoi(v); err != nil || attempts < 1 {
			return nil, fmt.Errorf("archive %q: max_attempts must be a whole number >= 1", raw)
		}
	}
	var retention time.Duration
	if v := q.Get("retention"); v != "" {
		if retention, err = parseRetention(v); err != nil {
			return nil, fmt.Errorf("archive %q: %w", raw, err)
		}
	}
	retries := &atomic.Int64{}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return countingRetryer{retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 20 * time.Second
			}), retries}
		}),
	}
	if r := q.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("archive %q: AWS configuration: %w", raw, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	pathStyle := endpoint != "" && q.Get("path_style") != "false"
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		// S3-compatible stores do not all know the newer default checksums.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	a := &S3{client: client, bucket: u.Host, prefix: strings.Trim(u.Path, "/"), retention: retention, now: time.Now, retries: retries}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(a.bucket)}); err != nil {
		return nil, fmt.Errorf("archive %s: %w", raw, explain(err, a.bucket))
	}
	return a, nil
}

func parseRetention(v string) (time.Duration, error) {
	if len(v) < 2 {
		return 0, fmt.Errorf("retention %q: want a number of days (30d) or years (10y)", v)
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("retention %q: want a number of days (30d) or years (10y)", v)
	}
	switch v[len(v)-1] {
	case 'd':
		return time.Duration(n) * 24 * time.Hour, nil
	case 'y':
		return time.Duration(n) * 366 * 24 * time.Hour, nil
	}
	return 0, fmt.Errorf("retention %q: want a number of days (30d) or years (10y)", v)
}

// explain turns S3 errors into messages an operator can act on.
func explain(err error, bucket string) error {
	var ae smithy.APIError
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	switch {
	case code == "NoSuchBucket" || (code == "NotFound" && status == http.StatusNotFound):
		return fmt.Errorf("bucket %q does not exist: %w", bucket, err)
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied" || status == http.StatusForbidden:
		return fmt.Errorf("access to bucket %q denied: check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): %w", bucket, err)
	}
	return err
}

func (a *S3) key(k string) string {
	if a.prefix == "" {
		return k
	}
	return path.Join(a.prefix, k)
}

func contentType(key string) string {
	switch path.Ext(key) {
	case ".pdf":
		return "application/pdf"
	case ".xml":
		return "text/xml"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Put stores data under key with a conditional put (If-None-Match: *). When the key
// exists, the stored object's SHA-256 decides: equal bytes succeed (an idempotent re-run),
// different bytes fail with ErrConflict and nothing is overwritten.
func (a *S3) Put(ctx context.Context, key string, data []byte) error {
	sum := sha256.Sum256(data)
	in := &s3.PutObjectInput{
		Bucket: aws.String(a.bucket), Key: aws.String(a.key(key)), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String(contentType(key)),
		IfNoneMatch: aws.String("*"),
		Metadata:    map[string]string{"sha256": hex.EncodeToString(sum[:])},
	}
	if a.retention > 0 {
		in.ObjectLockMode = types.ObjectLockModeCompliance
		in.ObjectLockRetainUntilDate = aws.Time(a.now().Add(a.retention).UTC().Truncate(time.Second))
	}
	_, err := a.client.PutObject(ctx, in)
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "ConditionalRequestConflict") {
		stored, gerr := a.Get(ctx, key)
		if gerr != nil {
			return fmt.Errorf("archive %s: exists, but cannot be read to compare: %w", key, gerr)
		}
		if sha256.Sum256(stored) == sum {
			return nil
		}
		return fmt.Errorf("%s: %w", key, ErrConflict)
	}
	return fmt.Errorf("archive %s: %w", key, explain(err, a.bucket))
}

// Stat returns the size of the object under key and the SHA-256 recorded when it was put
// (metadata "sha256"), without reading it.
func (a *S3) Stat(ctx context.Context, key string) (Info, error) {
	out, err := a.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key(key))})
	if err != nil {
		var nf *types.NotFound
		var ae smithy.APIError
		if errors.As(err, &nf) || (errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")) {
			return Info{}, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return Info{}, fmt.Errorf("archive %s: %w", key, explain(err, a.bucket))
	}
	return Info{Size: aws.ToInt64(out.ContentLength), SHA256: out.Metadata["sha256"]}, nil
}

// Get reads the object under key.
func (a *S3) Get(ctx context.Context, key string) ([]byte, error) {
	out, err := a.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(a.key(key))})
	if err != nil {
		var nsk *types.NoSuchKey
		var ae smithy.APIError
		if errors.As(err, &nsk) || (errors.As(err, &ae) && ae.ErrorCode() == "NotFound") {
			return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("archive %s: %w", key, explain(err, a.bucket))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", key, err)
	}
	return b, nil
}
