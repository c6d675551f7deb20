package reports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// A webhook URL is checked when a report is created or updated and again
// before every delivery and every redirect it follows, so a tenant can
// never make the worker call its own network (Redis, ClickHouse, a cloud
// metadata endpoint): the host must be a dotted-quad or bracketed IPv6
// literal or a DNS name with a non-numeric top-level label (no 2130706433,
// 0x7f.0.0.1, 127.1: C resolvers read those as 127.0.0.1), not a name the
// local network answers (localhost, *.internal, *.local, single labels),
// and every address it resolves to must be public. The dialer checks the
// connected address once more (DNS answers may change in between). With
// Webhooks.AllowPrivate (Config.AllowPrivateWebhooks for reports; tests, single-host development) private
// addresses and local names pass; numeric forms never do.

// Resolver looks up a host's addresses (*net.Resolver; tests inject one).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// localSuffixes are name suffixes only a local network answers.
var localSuffixes = []string{".localhost", ".local", ".internal", ".localdomain", ".lan", ".home.arpa", ".intranet", ".corp"}

// nonPublic are ranges beyond netip's predicates that no public receiver
// uses: "this network", shared address space (CGNAT), IETF protocol
// assignments, benchmarking, reserved, and IPv6 prefixes that embed an
// IPv4 address (NAT64, 6to4, Teredo) and could carry a private one.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001::/32"),
}

// publicAddr reports whether ip is a public unicast address.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// allowedAddr reports whether a webhook may connect to ip.
func (w *Webhooks) allowedAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if w.AllowPrivate {
		return ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast()
	}
	return publicAddr(ip)
}

// CheckURL refuses a webhook URL the worker must not call, with a
// KindInvalid error saying why (BAD_USER_INPUT at creation, FAILED at
// delivery). A resolver failure other than "no such host" is
// KindUnavailable: retry later.
func (w *Webhooks) CheckURL(ctx context.Context, raw string) error {
	const op = "reports.webhookURL"
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return errs.E(op, errs.KindInvalid, "webhook URL must be an absolute http(s) URL, e.g. https://hooks.example.com/reports")
	}
	host := strings.ToLower(u.Hostname())
	if ip, err := netip.ParseAddr(host); err == nil {
		if !w.allowedAddr(ip) {
			return errs.E(op, errs.KindInvalid, fmt.Sprintf(
				"webhook host %s is a loopback, private, link-local or reserved address; use a public one", host))
		}
		return nil
	}
	if problem := w.hostNameProblem(host); problem != "" {
		return errs.E(op, errs.KindInvalid, fmt.Sprintf("webhook host %q %s", clipHost(host), problem))
	}
	resolver := w.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound, err == nil && len(addrs) == 0:
		return errs.E(op, errs.KindInvalid, fmt.Sprintf("webhook host %q does not resolve; check the name", clipHost(host)))
	case err != nil:
		return errs.Wrap(op, errs.KindUnavailable, err, fmt.Sprintf("webhook host %q could not be resolved now; try again", clipHost(host)))
	}
	for _, ip := range addrs {
		if !w.allowedAddr(ip) {
			return errs.E(op, errs.KindInvalid, fmt.Sprintf(
				"webhook host %q resolves to %s, a loopback, private, link-local or reserved address; use a public one", clipHost(host), ip.Unmap()))
		}
	}
	return nil
}

// hostNameProblem says what is wrong with a host name that is not an IP
// literal, or "".
func (w *Webhooks) hostNameProblem(host string) string {
	name := strings.TrimSuffix(host, ".")
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "is not a DNS name (letters, digits and hyphens between dots)"
		}
	}
	// A numeric or hex last label is an IPv4 address in a form C resolvers
	// accept (2130706433, 0x7f.0.0.1, 127.1) but the dialer's check cannot
	// see coming.
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || strings.HasPrefix(last, "0x") {
		return "is an IP address in a numeric form; write it as a dotted quad (a.b.c.d) or use a DNS name"
	}
	if w.AllowPrivate {
		return ""
	}
	if len(labels) == 1 {
		return "is a single-label name only the local network resolves; use a fully qualified public name"
	}
	for _, suf := range localSuffixes {
		if strings.HasSuffix("."+name, suf) {
			return "names a host of the local network; use a public one"
		}
	}
	return ""
}

// clipHost bounds a host repeated in a message.
func clipHost(h string) string {
	if len(h) > 80 {
		return h[:80] + "…"
	}
	return h
}
