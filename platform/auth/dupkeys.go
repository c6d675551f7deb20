package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// refuseDuplicateMembers refuses a token whose header or payload names a
// member twice. Go's JSON decoder keeps the last of them while other
// parsers keep the first, so two components could read different claims
// (a tenant, a role) from one signed token; RFC 7519 §4 lets a verifier
// refuse it, and this one does.
func refuseDuplicateMembers(raw string) error {
	const op = "auth.Verify"
	for i, seg := range strings.SplitN(raw, ".", 3)[:2] {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
		if err != nil {
			return errs.Wrap(op, errs.KindUnauthenticated, err, "token is malformed: a segment is not base64url")
		}
		if name, dup := duplicateMember(b); dup {
			part := [2]string{"header", "payload"}[i]
			return errs.E(op, errs.KindUnauthenticated,
				"token "+part+" names "+untrusted(name)+" more than once; issue a token with each claim once")
		}
	}
	return nil
}

// duplicateMember returns the first member name that occurs twice in the
// top-level JSON object b. b has already been decoded once, so a syntax
// error here cannot happen and ends the scan.
func duplicateMember(b []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", false
	}
	seen := make(map[string]struct{}, 8)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		name, _ := t.(string)
		if _, ok := seen[name]; ok {
			return name, true
		}
		seen[name] = struct{}{}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}
