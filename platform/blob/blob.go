// Package blob stores the service's large outputs (exports, reports, the cold
// tier) as objects under string keys and hands out time-limited signed URLs
// to them. Two adapters implement Store: Local, a directory on disk (the
// embedded default, its URLs signed with HMAC and served by LocalHandler),
// and S3, any S3-compatible object store (presigned URLs).
//
// Keys are slash-separated relative paths. Objects of a tenant live under
// TenantPrefix(tenant); a URL signed by Local is bound to that prefix, so a
// URL issued for one tenant can never fetch another tenant's object.
package blob

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Store keeps objects. Implementations are safe for concurrent use.
type Store interface {
	// Put writes r to key atomically: a reader sees the previous object or
	// the complete new one, never a partial write. A failed or cancelled Put
	// leaves no object behind (and the previous one, if any, intact).
	Put(ctx context.Context, key string, r io.Reader) error
	// Open reads an object; a missing key is KindNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes an object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, ordered by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// SignedURL returns a URL that fetches key until expires.
	SignedURL(ctx context.Context, key string, expires time.Time) (string, error)
}

// Object describes one stored object.
type Object struct {
	Key      string
	Size     int64
	Modified time.Time
}

// TenantPrefix is the key prefix of a tenant's objects: "tenants/<tenant>/".
func TenantPrefix(tenant string) string { return "tenants/" + tenant + "/" }

// TenantOf returns the tenant a key belongs to ("tenants/<tenant>/…"), or
// false when the key is not under a tenant prefix.
func TenantOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "tenants/")
	if !ok {
		return "", false
	}
	tenant, tail, ok := strings.Cut(rest, "/")
	if !ok || tenant == "" || tail == "" {
		return "", false
	}
	return tenant, true
}

// CheckKey validates a key: non-empty, relative, no empty, "." or ".."
// segments, no backslashes or control characters. Adapters call it on every
// operation so a key can never name something outside the store.
func CheckKey(op, key string) error {
	bad := func(why string) error {
		return errs.E(op, errs.KindInvalid, "object key "+why).With("field", "key")
	}
	if key == "" || len(key) > 1024 {
		return bad("must have 1 to 1024 characters")
	}
	if strings.ContainsAny(key, "\\\x00") {
		return bad("must not contain backslashes or NUL")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return bad("must not contain control characters")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return bad(`must be a relative path without empty, "." or ".." segments`)
		}
	}
	return nil
}
