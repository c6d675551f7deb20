package blob

import (
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// LocalHandler serves the objects of st to holders of a URL that st signed
// with secret (LocalConfig.Secret). Mount it where LocalConfig.BaseURL
// points, with that path prefix stripped, e.g.
//
//	mux.Handle("/blobs/", http.StripPrefix("/blobs", blob.LocalHandler(st, secret)))
//
// It answers GET and HEAD only. A request is refused with 403 when the
// signature does not match (any change of key, tenant or expiry breaks it),
// when the key is outside the signed tenant's prefix, or when the URL has
// expired (by LocalConfig.Now); 404 when the object is gone. Range
// requests work.
func LocalHandler(st *Local, secret []byte) http.Handler {
	return localHandler{st: st, signer: signer{secret: secret}, now: st.now}
}

// localHandler is LocalHandler with an injectable clock.
type localHandler struct {
	st     *Local
	signer signer
	now    func() time.Time
}

func (h localHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	q := r.URL.Query()
	tenant, exp, sig := q.Get("tenant"), q.Get("expires"), q.Get("sig")
	if reason := h.check(key, tenant, exp, sig); reason != "" {
		http.Error(w, reason, http.StatusForbidden)
		return
	}
	f, err := h.st.open("blob.LocalHandler", key)
	if err != nil {
		http.Error(w, "object not found", http.StatusNotFound)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "object not readable", http.StatusInternalServerError)
		return
	}
	name := path.Base(key)
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// check returns why a request is refused, or "" when it may be served.
func (h localHandler) check(key, tenant, exp, sig string) string {
	if tenant == "" || exp == "" || sig == "" {
		return "missing signature"
	}
	if CheckKey("blob.LocalHandler", key) != nil {
		return "invalid object key"
	}
	if !h.signer.verify(tenant, exp, key, sig) {
		return "invalid signature"
	}
	if !strings.HasPrefix(key, TenantPrefix(tenant)) {
		return "object is outside the signed tenant"
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !h.now().Before(time.Unix(unix, 0)) {
		return "link expired"
	}
	return ""
}
