package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Defaults for the zero values of S3Config.
const (
	DefaultS3Region   = "us-east-1"
	DefaultS3PartSize = 8 << 20
	minS3PartSize     = 5 << 20
)

// S3Config configures an S3 store.
type S3Config struct {
	// Bucket holds the objects. Required.
	Bucket string
	// Prefix is prepended to every key (e.g. "analytics/"); empty means none.
	Prefix string
	// Endpoint is the S3 API URL for S3-compatible stores (MinIO, R2, …);
	// empty means AWS's endpoint for Region.
	Endpoint string
	// Region is the bucket's region; empty means DefaultS3Region.
	Region string
	// AccessKeyID and SecretAccessKey are static credentials; both empty
	// means anonymous requests (only for public test stores).
	AccessKeyID     string
	SecretAccessKey string
	// PathStyle addresses buckets as <endpoint>/<bucket> instead of
	// <bucket>.<endpoint>; false (the default) is virtual-hosted style.
	PathStyle bool
	// PartSize is the multipart upload part size in bytes (memory held per
	// Put); zero means DefaultS3PartSize, at least 5 MiB.
	PartSize int
}

// S3 is a Store on an S3 bucket. Put sends a single PutObject for small
// objects and a multipart upload otherwise; S3 makes an object visible only
// when its PutObject or CompleteMultipartUpload succeeds, so readers never
// see a partial object, and a failed upload is aborted.
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	cfg     S3Config
	now     func() time.Time
}

// NewS3 returns an S3 store for cfg. It does not contact the store.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errs.E("blob.NewS3", errs.KindInvalid, "S3 bucket is empty")
	}
	if cfg.Region == "" {
		cfg.Region = DefaultS3Region
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultS3PartSize
	}
	cfg.PartSize = max(cfg.PartSize, minS3PartSize)
	opts := s3.Options{Region: cfg.Region, UsePathStyle: cfg.PathStyle}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	}
	client := s3.New(opts)
	return &S3{client: client, presign: s3.NewPresignClient(client), cfg: cfg, now: time.Now}, nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	const op = "blob.S3.Put"
	if err := CheckKey(op, key); err != nil {
		return err
	}
	buf := make([]byte, s.cfg.PartSize)
	n, err := io.ReadFull(r, buf)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.cfg.Bucket, Key: s.key(key), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		return s3Error(op, err)
	case err != nil:
		return errs.Wrap(op, errs.KindOf(err), err, "cannot read object data")
	}
	return s.multipart(ctx, key, buf, r)
}

// multipart uploads first (a full part) and the rest of r in parts.
func (s *S3) multipart(ctx context.Context, key string, first []byte, r io.Reader) (err error) {
	const op = "blob.S3.Put"
	up, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.cfg.Bucket, Key: s.key(key)})
	if err != nil {
		return s3Error(op, err)
	}
	defer func() {
		if err != nil {
			_, _ = s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
				Bucket: &s.cfg.Bucket, Key: s.key(key), UploadId: up.UploadId,
			})
		}
	}()
	var parts []types.CompletedPart
	buf, n := first, len(first)
	for num := int32(1); n > 0; num++ {
		out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.cfg.Bucket, Key: s.key(key), UploadId: up.UploadId, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			return s3Error(op, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		if n < len(buf) {
			break
		}
		n, err = io.ReadFull(r, buf)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return errs.Wrap(op, errs.KindOf(err), err, "cannot read object data")
		}
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.cfg.Bucket, Key: s.key(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return s3Error(op, err)
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	const op = "blob.S3.Open"
	if err := CheckKey(op, key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: s.key(key)})
	if err != nil {
		return nil, s3Error(op, err)
	}
	return out.Body, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	const op = "blob.S3.Delete"
	if err := CheckKey(op, key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.cfg.Bucket, Key: s.key(key)})
	if errs.Is(s3Error(op, err), errs.KindNotFound) {
		return nil
	}
	return s3Error(op, err)
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	const op = "blob.S3.List"
	out := []Object{}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.cfg.Bucket, Prefix: s.key(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s3Error(op, err)
		}
		for _, o := range page.Contents {
			obj := Object{Key: strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix), Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				obj.Modified = o.LastModified.UTC()
			}
			out = append(out, obj)
		}
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// SignedURL implements Store with a presigned GET valid until expires
// (S3 caps presigned URLs at 7 days).
func (s *S3) SignedURL(ctx context.Context, key string, expires time.Time) (string, error) {
	const op = "blob.S3.SignedURL"
	if err := CheckKey(op, key); err != nil {
		return "", err
	}
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		return "", errs.E(op, errs.KindInvalid, "URL expiry is in the past")
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: s.key(key)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", s3Error(op, err)
	}
	return req.URL, nil
}

// key is the bucket key of a store key.
func (s *S3) key(key string) *string { return aws.String(s.cfg.Prefix + key) }

// s3Error classifies an S3 error (nil stays nil).
func s3Error(op string, err error) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return errs.Wrap(op, errs.KindNotFound, err, "object not found")
	}
	if k := errs.KindOf(err); k != errs.KindInternal {
		return errs.Wrap(op, k, err, "")
	}
	return errs.Wrap(op, errs.KindUnavailable, err, "object store request failed")
}
