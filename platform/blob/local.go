package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// tempPrefix marks files being written by Put; List never shows them.
const tempPrefix = ".tmp-"

// LocalConfig configures a Local store.
type LocalConfig struct {
	// Dir is the root directory, e.g. <data>/blobs; created when missing.
	// Required.
	Dir string
	// BaseURL is where LocalHandler is mounted as seen by clients, e.g.
	// "http://localhost:8080/blobs"; signed URLs are BaseURL + "/" + key +
	// query. Required for SignedURL.
	BaseURL string
	// Secret signs URLs (HMAC-SHA256); LocalHandler must get the same one.
	// Required, at least 16 bytes.
	Secret []byte
	// Now is the clock LocalHandler checks expiry against; nil means
	// time.Now.
	Now func() time.Time
}

// Local is a Store on a local directory. Put writes a temporary file in the
// object's directory, syncs it and renames it over the key, so readers never
// see a partial object.
type Local struct {
	root   string
	signer signer
	base   string
	now    func() time.Time
}

// NewLocal opens (creating if needed) a Local store.
func NewLocal(cfg LocalConfig) (*Local, error) {
	const op = "blob.NewLocal"
	if cfg.Dir == "" {
		return nil, errs.E(op, errs.KindInvalid, "blob directory is empty; set the data directory")
	}
	if len(cfg.Secret) < minSecret {
		return nil, errs.E(op, errs.KindInvalid, "blob URL secret must have at least 16 bytes")
	}
	root, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInvalid, err, "blob directory is not a valid path")
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot create the blob directory")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Local{root: root, signer: signer{secret: cfg.Secret}, base: strings.TrimRight(cfg.BaseURL, "/"), now: cfg.Now}, nil
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) error {
	const op = "blob.Local.Put"
	path, err := l.path(op, key)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot create the object directory")
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot create a temporary object")
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx: ctx, r: r}); err != nil {
		return errs.Wrap(op, errs.KindOf(err), err, "cannot write object")
	}
	if err := f.Sync(); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot sync object")
	}
	if err := f.Close(); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot close object")
	}
	if err := os.Rename(tmp, path); err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot publish object")
	}
	ok = true
	return nil
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, error) {
	f, err := l.open("blob.Local.Open", key)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	const op = "blob.Local.Delete"
	path, err := l.path(op, key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(op, errs.KindUnavailable, err, "cannot delete object")
	}
	return nil
}

// List implements Store.
func (l *Local) List(ctx context.Context, prefix string) ([]Object, error) {
	const op = "blob.Local.List"
	out := []Object{}
	err := filepath.WalkDir(l.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.root, path)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), tempPrefix) || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), Modified: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot list objects")
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// SignedURL implements Store: BaseURL/<key>?tenant=…&expires=…&sig=…, where
// sig is an HMAC over the tenant, the expiry and the key. The key must be
// under a tenant prefix.
func (l *Local) SignedURL(_ context.Context, key string, expires time.Time) (string, error) {
	const op = "blob.Local.SignedURL"
	if err := CheckKey(op, key); err != nil {
		return "", err
	}
	tenant, ok := TenantOf(key)
	if !ok {
		return "", errs.E(op, errs.KindInternal, "only objects under a tenant prefix get signed URLs")
	}
	if l.base == "" {
		return "", errs.E(op, errs.KindInternal, "blob base URL is not configured")
	}
	return l.base + "/" + escapeKey(key) + "?" + l.signer.query(tenant, key, expires), nil
}

// open opens the file of key.
func (l *Local) open(op, key string) (*os.File, error) {
	path, err := l.path(op, key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.E(op, errs.KindNotFound, "object not found")
	case err != nil:
		return nil, errs.Wrap(op, errs.KindUnavailable, err, "cannot open object")
	}
	return f, nil
}

// path maps a checked key to its file under the root.
func (l *Local) path(op, key string) (string, error) {
	if err := CheckKey(op, key); err != nil {
		return "", err
	}
	if strings.HasPrefix(filepath.Base(key), tempPrefix) {
		return "", errs.E(op, errs.KindInvalid, "object names must not start with "+tempPrefix)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, errs.Wrap("blob.Put", errs.KindUnavailable, err, "write cancelled")
	}
	return c.r.Read(p)
}
