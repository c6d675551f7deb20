// Package web serves the console: the single-page app built from web/src
// into web/dist (committed, embedded here, so the binary needs no node and
// no network), under a strict Content-Security-Policy. The console talks to
// the service only through the public GraphQL API and graphql-ws, like any
// other client.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// CSP allows nothing but this origin: no inline scripts or styles in
// markup, no eval, no frames, no third-party hosts. ('self' covers the
// same-origin ws:/wss: of graphql-ws in current browsers.)
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self'; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// PlaygroundCSP is CSP for GraphiQL's page: scripts stay 'self' only, but
// its Monaco editor inserts <style> elements at run time and embeds its
// fonts as data: URLs, so styles may be inline and fonts data:.
const PlaygroundCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// playgroundFile is GraphiQL's page in the build (web/playground.html).
const playgroundFile = "playground.html"

// DevTokenPath answers the dev admin token to loopback clients in the
// embedded dev-secret mode, so the sign-in page can offer it.
const DevTokenPath = "/console/dev-token"

// Config configures the console handler.
type Config struct {
	// DevToken is the dev admin token (embedded dev-secret mode only); empty
	// disables DevTokenPath.
	DevToken string
}

type asset struct {
	body  []byte
	ctype string
	etag  string

	gzOnce sync.Once
	gz     []byte // gzip of body made on first use; nil when it saves under a tenth
}

// Handler serves the console's files: "/" is index.html, every other path
// a file of the build or 404. Mount it as the catch-all pattern "/" (a
// method-qualified "GET /" would conflict with "/graphql"); it answers
// only GET and HEAD.
func Handler(cfg Config) http.Handler {
	files := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		if r.URL.Path == DevTokenPath {
			devToken(cfg.DevToken, w, r)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		files.serve(w, r, name)
	})
}

// Playground serves GraphiQL (npm graphiql, self-hosted, offline) at
// whatever path it is mounted on, e.g. "GET /playground". Its assets come
// from Handler, mounted at "/". It pre-fills the Authorization header with
// the console's token or, for a browser on this machine in dev mode, the dev
// token (from DevTokenPath), and sends subscriptions over graphql-ws. The
// page itself is the same for everyone: the token is never in its markup.
func Playground() http.Handler {
	files := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if readOnly(w, r) {
			files.serve(w, r, playgroundFile)
		}
	})
}

func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// serve writes the embedded file name, or 404.
func (files assets) serve(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	csp := CSP
	if name == playgroundFile {
		csp = PlaygroundCSP
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Type", a.ctype)
	// Names carry no content hash (the build is reproducible and
	// diffable), so browsers revalidate by ETag on every load.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		if gz := a.gzipped(); gz != nil {
			h.Set("Content-Encoding", "gzip")
			_, _ = w.Write(gz)
			return
		}
	}
	_, _ = w.Write(a.body)
}

// assets are the embedded build's files by path ("index.html", "assets/…").
type assets map[string]*asset

// load reads the embedded build once.
func load() assets {
	files := assets{}
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		files[p] = &asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return files
}

// gzipped compresses the body once, on the first request that accepts
// gzip; nil when that saves under a tenth.
func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if buf.Len() <= len(a.body)*9/10 {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// devToken answers {"token": …} only to a browser on this machine (see
// localBrowser) and only when a dev token exists; everyone else gets 404.
func devToken(token string, w http.ResponseWriter, r *http.Request) {
	if token == "" || !localBrowser(r) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Host")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": token})
}

// localBrowser reports whether r comes straight from this machine: the
// connection is from a loopback address, the Host header names loopback (a
// page of another site that rebinds its DNS name to 127.0.0.1 carries its
// own host name) and no proxy header says the request was forwarded (a
// reverse proxy on this host makes every client look local).
func localBrowser(r *http.Request) bool {
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-Ip"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	return loopbackHost(r.RemoteAddr) && loopbackHost(r.Host)
}

// loopbackHost reports whether hostport (port optional) names this machine
// by a loopback name or address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
