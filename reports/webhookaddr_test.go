package reports_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/reports"
	"github.com/learnhub/analytics-service/reports/reportstest"
)

// TestWebhookAddressesRefused: a webhook that would reach the service's own
// network is refused when the report is saved (BAD_USER_INPUT naming the
// field and the reason) and, should its name resolve elsewhere later or
// redirect there, FAILED at delivery with the reason instead of RETRYING.
func TestWebhookAddressesRefused(t *testing.T) {
	dns := reportstest.NewResolver(map[string][]string{
		"hooks.example.com":    {"93.184.215.14"},
		"rebinds.example.com":  {"93.184.215.14"},
		"internal.example.com": {"93.184.215.14", "10.1.2.3"},
		"v6.example.com":       {"::ffff:127.0.0.1"},
	})
	h := newHarness(t, func(d *reports.Deps, c *reports.Config) {
		d.Resolver = dns
		c.AllowPrivateWebhooks = false // production default
	})
	ctx := as("acme")
	hook := func(u string) reports.Input {
		return dashboardReport(reports.FormatCSVZip, reports.Delivery{Kind: reports.DeliveryWebhook, URL: u, Secret: hookSecret})
	}

	for _, tc := range []struct{ url, why string }{
		{"http://127.0.0.1/hook", "loopback, private"},
		{"http://2130706433/hook", "numeric form"},
		{"http://0x7f.0.0.1/hook", "numeric form"},
		{"http://127.1/hook", "numeric form"},
		{"http://017700000001/hook", "numeric form"},
		{"http://localhost./hook", "single-label"},
		{"http://localhost/hook", "single-label"},
		{"http://app.localhost/hook", "local network"},
		{"http://metadata.google.internal/computeMetadata/v1/", "local network"},
		{"http://169.254.169.254/latest/meta-data/", "loopback, private"},
		{"http://[::1]:8080/hook", "loopback, private"},
		{"http://[::ffff:127.0.0.1]/hook", "loopback, private"},
		{"http://[fe80::1%25eth0]/hook", "loopback, private"},
		{"http://10.0.0.1/hook", "loopback, private"},
		{"http://100.64.0.1/hook", "loopback, private"},
		{"http://0.0.0.0/hook", "loopback, private"},
		{"http://redis:6379/", "single-label"},
		{"http://internal.example.com/hook", "resolves to 10.1.2.3"},
		{"http://v6.example.com/hook", "resolves to 127.0.0.1"},
		{"https://nowhere.example.com/hook", "does not resolve"},
		{"http://under_score.example.com/hook", "not a DNS name"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			_, err := h.svc.Create(ctx, hook(tc.url))
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err), "%v", err)
			assert.Equal(t, "deliveries[0].url", errs.PublicFields(err)["field"])
			assert.Contains(t, errs.PublicMessage(err), tc.why)
		})
	}

	rep, err := h.svc.Create(ctx, hook("https://rebinds.example.com/hook"))
	require.NoError(t, err, "a public name is accepted")

	t.Run("a name that resolves privately at delivery is FAILED", func(t *testing.T) {
		dns.Set("rebinds.example.com", "10.9.8.7")
		err := runAndDeliver(t, h, ctx, rep.ID)
		assert.True(t, errs.Is(err, errs.KindInvalid), "not retried: %v", err)
		d := h.onlyRun(t, ctx, rep.ID).Deliveries[0]
		assert.Equal(t, reports.DeliveryFailed, d.Status)
		assert.Equal(t, 1, d.Attempts)
		assert.Contains(t, d.LastError, "resolves to 10.9.8.7")
	})
}

// TestWebhookRedirectChecked: a receiver that redirects to an address the
// check refuses ends the delivery FAILED with the reason, even where
// private addresses are allowed (numeric forms never are).
func TestWebhookRedirectChecked(t *testing.T) {
	h := newHarness(t) // AllowPrivateWebhooks, as tests need for loopback receivers
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		http.Redirect(w, r, "http://2130706433/steal", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	ctx := as("acme")
	rep, err := h.svc.Create(ctx, dashboardReport(reports.FormatCSVZip,
		reports.Delivery{Kind: reports.DeliveryWebhook, URL: srv.URL + "/hook", Secret: hookSecret}))
	require.NoError(t, err)
	err = runAndDeliver(t, h, ctx, rep.ID)
	assert.True(t, errs.Is(err, errs.KindInvalid), "not retried: %v", err)
	_, posted := hits.Load("/hook")
	assert.True(t, posted)
	d := h.onlyRun(t, ctx, rep.ID).Deliveries[0]
	assert.Equal(t, reports.DeliveryFailed, d.Status)
	assert.Contains(t, d.LastError, "webhook redirected")
	assert.Contains(t, d.LastError, "numeric form")
}

// runAndDeliver runs the report now and makes the first delivery attempt of
// its one delivery, returning that attempt's error.
func runAndDeliver(t *testing.T, h *harness, ctx context.Context, reportID string) error {
	t.Helper()
	_, err := h.svc.RunNow(ctx, reportID)
	require.NoError(t, err)
	require.Equal(t, []error{nil}, h.runAll(t, reports.KindRun, h.svc.Runner(), 0, 3))
	tasks := h.q.Take(reports.KindDeliver)
	require.Len(t, tasks, 1)
	return h.process(t, h.svc.Deliverer(), tasks[0], 0, 6)
}
