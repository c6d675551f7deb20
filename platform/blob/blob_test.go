package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/blob"
	"github.com/learnhub/analytics-service/platform/errs"
)

var secret = []byte("0123456789abcdef-test-secret")

// localServer is a Local store served by LocalHandler under /blobs.
func localServer(t *testing.T) (*blob.Local, *httptest.Server) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	st, err := blob.NewLocal(blob.LocalConfig{Dir: t.TempDir(), BaseURL: srv.URL + "/blobs", Secret: secret})
	require.NoError(t, err)
	mux.Handle("/blobs/", http.StripPrefix("/blobs", blob.LocalHandler(st, secret)))
	return st, srv
}

// s3Store is an S3 store on an in-process gofakes3 server.
func s3Store(t *testing.T, partSize int) *blob.S3 {
	t.Helper()
	be := s3mem.New()
	require.NoError(t, be.CreateBucket("exports"))
	srv := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(srv.Close)
	st, err := blob.NewS3(blob.S3Config{
		Bucket: "exports", Endpoint: srv.URL, PathStyle: true, Prefix: "svc/",
		AccessKeyID: "test", SecretAccessKey: "test", PartSize: partSize,
	})
	require.NoError(t, err)
	return st
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}

// failingReader returns some data, then an error.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("encoder broke")
	}
	n := min(len(p), f.n)
	for i := range n {
		p[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func TestStores(t *testing.T) {
	local, _ := localServer(t)
	stores := map[string]blob.Store{
		"local":        local,
		"s3":           s3Store(t, 0),
		"s3 multipart": s3Store(t, 5<<20),
	}
	big := bytes.Repeat([]byte("0123456789"), 1_200_000) // 12 MB: three 5 MiB parts
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			key := "tenants/a/exports/j1.csv"
			require.NoError(t, st.Put(ctx, key, strings.NewReader("héllo,世界\n")))
			require.NoError(t, st.Put(ctx, "tenants/b/exports/j2.csv", bytes.NewReader(big)))

			rc, err := st.Open(ctx, key)
			require.NoError(t, err)
			b, _ := io.ReadAll(rc)
			rc.Close()
			assert.Equal(t, "héllo,世界\n", string(b))

			rc, err = st.Open(ctx, "tenants/b/exports/j2.csv")
			require.NoError(t, err)
			b, _ = io.ReadAll(rc)
			rc.Close()
			assert.Equal(t, len(big), len(b))
			assert.True(t, bytes.Equal(big, b))

			// a failed Put leaves the previous object intact and no partial one
			err = st.Put(ctx, key, io.MultiReader(strings.NewReader("partial"), &failingReader{n: 6 << 20}))
			require.Error(t, err)
			err = st.Put(ctx, "tenants/a/exports/never.csv", &failingReader{n: 100})
			require.Error(t, err)
			objs, err := st.List(ctx, "tenants/a/")
			require.NoError(t, err)
			require.Len(t, objs, 1)
			assert.Equal(t, key, objs[0].Key)
			assert.Equal(t, int64(len("héllo,世界\n")), objs[0].Size)

			all, err := st.List(ctx, "tenants/")
			require.NoError(t, err)
			assert.Len(t, all, 2)

			require.NoError(t, st.Delete(ctx, key))
			require.NoError(t, st.Delete(ctx, key), "deleting a missing object is fine")
			_, err = st.Open(ctx, key)
			assert.True(t, errs.Is(err, errs.KindNotFound), "%v", err)

			for _, bad := range []string{"", "../x", "tenants/a/../../x", "/abs", "a//b", "a\\b"} {
				assert.True(t, errs.Is(st.Put(ctx, bad, strings.NewReader("x")), errs.KindInvalid), bad)
			}
		})
	}
}

func TestS3SignedURL(t *testing.T) {
	ctx := context.Background()
	st := s3Store(t, 0)
	require.NoError(t, st.Put(ctx, "tenants/a/exports/j.json", strings.NewReader(`[{"a":1}]`)))
	u, err := st.SignedURL(ctx, "tenants/a/exports/j.json", time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Contains(t, u, "X-Amz-Signature=")
	code, body := get(t, u)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, `[{"a":1}]`, body)

	_, err = st.SignedURL(ctx, "tenants/a/exports/j.json", time.Now().Add(-time.Minute))
	assert.True(t, errs.Is(err, errs.KindInvalid))
}

func TestLocalHandler(t *testing.T) {
	ctx := context.Background()
	st, srv := localServer(t)
	require.NoError(t, st.Put(ctx, "tenants/a/exports/j1.csv", strings.NewReader("a,b\n1,2\n")))
	require.NoError(t, st.Put(ctx, "tenants/b/exports/j2.csv", strings.NewReader("secret of b\n")))
	good, err := st.SignedURL(ctx, "tenants/a/exports/j1.csv", time.Now().Add(time.Hour))
	require.NoError(t, err)
	code, body := get(t, good)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "a,b\n1,2\n", body)

	res, err := http.Get(good)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, `attachment; filename=j1.csv`, res.Header.Get("Content-Disposition"))

	mutate := func(f func(u *url.URL, q url.Values)) string {
		u, err := url.Parse(good)
		require.NoError(t, err)
		q := u.Query()
		f(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	expired, err := st.SignedURL(ctx, "tenants/a/exports/j1.csv", time.Now().Add(-time.Second))
	require.NoError(t, err)
	// A URL properly signed for tenant b's own object must not open a's.
	bURL, err := st.SignedURL(ctx, "tenants/b/exports/j2.csv", time.Now().Add(time.Hour))
	require.NoError(t, err)
	bu, _ := url.Parse(bURL)

	tests := []struct {
		name string
		url  string
		want int
	}{
		{"tampered signature", mutate(func(_ *url.URL, q url.Values) { q.Set("sig", strings.Repeat("0", 64)) }), 403},
		{"extended expiry", mutate(func(_ *url.URL, q url.Values) { q.Set("expires", "9999999999") }), 403},
		{"other tenant in query", mutate(func(_ *url.URL, q url.Values) { q.Set("tenant", "b") }), 403},
		{"other key, same signature", mutate(func(u *url.URL, _ url.Values) { u.Path = "/blobs/tenants/b/exports/j2.csv" }), 403},
		{"b's signature on a's key", srv.URL + "/blobs/tenants/a/exports/j1.csv?" + bu.RawQuery, 403},
		{"traversal", mutate(func(u *url.URL, _ url.Values) { u.Path = "/blobs/tenants/a/../b/exports/j2.csv" }), 403},
		{"missing signature", srv.URL + "/blobs/tenants/a/exports/j1.csv", 403},
		{"expired", expired, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, tt.url)
			assert.Equal(t, tt.want, code, body)
			assert.NotContains(t, body, "secret of b")
			assert.NotContains(t, body, "1,2")
		})
	}

	// a key outside any tenant prefix gets no URL at all
	_, err = st.SignedURL(ctx, "reports/x.csv", time.Now().Add(time.Hour))
	assert.Error(t, err)
	// a deleted object is 404, not a stale copy
	require.NoError(t, st.Delete(ctx, "tenants/a/exports/j1.csv"))
	code, _ = get(t, good)
	assert.Equal(t, http.StatusNotFound, code)
}
