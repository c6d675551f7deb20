package blob

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// minSecret is the shortest accepted URL-signing secret.
const minSecret = 16

// signer makes and checks the HMAC of a Local signed URL.
type signer struct{ secret []byte }

// query is the signed URL's query string.
func (s signer) query(tenant, key string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	v := url.Values{}
	v.Set("tenant", tenant)
	v.Set("expires", exp)
	v.Set("sig", s.sign(tenant, exp, key))
	return v.Encode()
}

// sign is hex(HMAC-SHA256(secret, "v1\n" tenant "\n" expires "\n" key)).
// Every input is bound, and the fields are separated by a byte that a
// tenant id and a unix time cannot contain, so no field can be shifted into
// another.
func (s signer) sign(tenant, expires, key string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("v1\n" + tenant + "\n" + expires + "\n" + key))
	return hex.EncodeToString(m.Sum(nil))
}

// verify checks a signature in constant time.
func (s signer) verify(tenant, expires, key, sig string) bool {
	return hmac.Equal([]byte(s.sign(tenant, expires, key)), []byte(sig))
}

// escapeKey escapes each segment of a key for a URL path.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
