package reports

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Headers of a webhook delivery.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed by the delivery's secret>".
	HeaderSignature = "X-Analytics-Signature"
	// HeaderEvent is the event subject of the body.
	HeaderEvent = "X-Analytics-Event"
	// HeaderDelivery is "<run id>/<delivery index>", the same on every
	// retry: receivers deduplicate on it.
	HeaderDelivery = "X-Analytics-Delivery"
)

// maxWebhookRedirects is how many redirects a delivery follows.
const maxWebhookRedirects = 5

// errPrivateAddress refuses a webhook connection to an address inside the
// service's own network.
var errPrivateAddress = errors.New("webhook address is not public")

// Sign is the HeaderSignature value of body sent at t with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// VerifySignature checks a HeaderSignature value against body and secret
// and that its time is within tolerance of now (replays of old bodies
// fail). Receivers can call it, or repeat its three lines.
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	const op = "reports.VerifySignature"
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errs.E(op, errs.KindUnauthenticated, "signature header is not t=<unix>,v1=<hex>")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errs.E(op, errs.KindUnauthenticated, "signature is too old or from the future")
	}
	want := mac(secret, ts, body)
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(want, got) {
		return errs.E(op, errs.KindUnauthenticated, "signature does not match the body")
	}
	return nil
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Webhooks posts signed JSON bodies to tenant-given URLs under the SSRF
// rules of webhookaddr.go. Reports use it for their deliveries; other
// domains (alerts) share it so every webhook of the service follows the same
// rules and signature. The zero value is ready: public addresses only,
// DefaultWebhookTimeout, the system resolver.
type Webhooks struct {
	// HTTP posts the requests; nil means a client with DefaultWebhookTimeout
	// whose dialer refuses the addresses CheckURL refuses.
	HTTP *http.Client
	// Resolver resolves hosts for the address check; nil means
	// net.DefaultResolver.
	Resolver Resolver
	// AllowPrivate lets webhooks reach loopback, private and link-local
	// addresses and local names (tests, single-host development).
	AllowPrivate bool
	// UserAgent is sent with every request; empty means "analyticsd-reports/1".
	UserAgent string
	// Now is the clock of the signature; nil means time.Now.
	Now func() time.Time
}

// postWebhook POSTs the event as JSON, signed (see Webhooks.Post).
func (s *Service) postWebhook(ctx context.Context, d Delivery, ev *Generated, deliveryID string) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return errs.Wrap("reports.webhook", errs.KindInternal, err, "")
	}
	return s.hooks.Post(ctx, d.URL, d.Secret, SubjectGenerated, deliveryID, body)
}

// checkWebhookURL is Webhooks.CheckURL with the service's settings.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) error {
	return s.hooks.CheckURL(ctx, raw)
}

// Post POSTs body (JSON) to url, signed with secret (HeaderSignature), with
// HeaderEvent = event and HeaderDelivery = deliveryID (the same on every
// retry: receivers deduplicate on it). 2xx is delivered; 408, 429 and 5xx
// or no answer are KindUnavailable (retry); any other status and a refused
// address are KindInvalid (give up).
func (w *Webhooks) Post(ctx context.Context, url, secret, event, deliveryID string, body []byte) error {
	const op = "reports.webhook"
	if err := w.CheckURL(ctx, url); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return errs.Wrap(op, errs.KindInvalid, err, "webhook URL is not usable")
	}
	ua, now := w.UserAgent, time.Now
	if ua == "" {
		ua = "analyticsd-reports/1"
	}
	if w.Now != nil {
		now = w.Now
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, deliveryID)
	req.Header.Set(HeaderSignature, Sign(secret, now(), body))
	resp, err := w.client().Do(req)
	if errs.Is(err, errs.KindInvalid) { // a redirect the URL check refused
		return errs.Wrap(op, errs.KindInvalid, err, "webhook redirected: "+errs.PublicMessage(err))
	}
	if errors.Is(err, errPrivateAddress) {
		return errs.Wrap(op, errs.KindInvalid, err, "webhook URL resolves to a loopback, private or link-local address; use a public one")
	}
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "webhook did not answer")
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return errs.E(op, errs.KindUnavailable, fmt.Sprintf("webhook answered %d", c))
	default:
		return errs.E(op, errs.KindInvalid, fmt.Sprintf("webhook answered %d; fix the receiver or the URL", c))
	}
}

// client is HTTP, or a client whose dialer refuses addresses CheckURL
// would (see webhookaddr.go): a tenant must not make the worker call
// Redis, ClickHouse or a cloud metadata endpoint. The check runs on the
// resolved address of every connection (redirects and DNS rebinding
// included), and every redirect target passes CheckURL first, so a refused
// one is FAILED with its reason, not retried.
func (w *Webhooks) client() *http.Client {
	var c http.Client
	if w.HTTP != nil {
		c = *w.HTTP
	} else {
		dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return errPrivateAddress
			}
			ip, err := netip.ParseAddr(host)
			if err != nil || !w.allowedAddr(ip) {
				return errPrivateAddress
			}
			return nil
		}}
		transport := http.DefaultTransport.(*http.Transport).Clone()
		transport.Proxy = nil
		transport.DialContext = dialer.DialContext
		c = http.Client{Timeout: DefaultWebhookTimeout, Transport: transport}
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxWebhookRedirects {
			return errs.E("reports.webhook", errs.KindInvalid, fmt.Sprintf("more than %d redirects", maxWebhookRedirects))
		}
		return w.CheckURL(req.Context(), req.URL.String())
	}
	return &c
}
