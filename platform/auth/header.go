package auth

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// maxTokenLen bounds the raw token a verifier will look at. Real tokens are a
// few hundred bytes; the bound keeps decoding cheap for garbage input.
const maxTokenLen = 8 << 10

// maxShownLen bounds how much of a token-supplied string a message repeats.
const maxShownLen = 64

// tokenHeader is the part of a JWS header that picks the verifier and key.
type tokenHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit"`
}

// parseHeader reads the header of a compact JWS without verifying anything,
// so a verifier can refuse an algorithm before touching a key.
func parseHeader(raw string) (tokenHeader, error) {
	const op = "auth.Verify"
	if len(raw) > maxTokenLen {
		return tokenHeader{}, errs.E(op, errs.KindUnauthenticated,
			fmt.Sprintf("token is %d bytes long; the limit is %d", len(raw), maxTokenLen))
	}
	head, _, ok := strings.Cut(raw, ".")
	if !ok || strings.Count(raw, ".") != 2 {
		return tokenHeader{}, errs.E(op, errs.KindUnauthenticated,
			"token is malformed: expected a JWT of three base64url segments separated by dots")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(head, "="))
	if err != nil {
		return tokenHeader{}, errs.Wrap(op, errs.KindUnauthenticated, err,
			"token is malformed: its header is not base64url")
	}
	var h tokenHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return tokenHeader{}, errs.Wrap(op, errs.KindUnauthenticated, err,
			"token is malformed: its header is not a JSON object with a string alg")
	}
	if h.Alg == "" {
		return tokenHeader{}, errs.E(op, errs.KindUnauthenticated, "token header has no alg")
	}
	if len(h.Crit) > 0 {
		return tokenHeader{}, errs.E(op, errs.KindUnauthenticated,
			"token header lists critical extensions (crit); this server supports none")
	}
	return h, nil
}

// algNotAccepted is the error for a token signed with an algorithm the
// verifier does not take, naming the ones it does.
func algNotAccepted(alg string, accepted []string) error {
	return errs.E("auth.Verify", errs.KindUnauthenticated,
		fmt.Sprintf("signing algorithm %s is not accepted here; use %s",
			untrusted(alg), strings.Join(accepted, " or ")))
}

// untrusted renders a token-supplied string for a message: short plain
// identifiers as they are, anything else quoted and truncated.
func untrusted(s string) string {
	plain := len(s) > 0 && len(s) <= maxShownLen
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return untrustedQuoted(s)
}

// untrustedQuoted quotes a token-supplied value, truncated to a sane length.
func untrustedQuoted(s string) string {
	if len(s) > maxShownLen {
		s = s[:maxShownLen] + "…"
	}
	return fmt.Sprintf("%q", s)
}
