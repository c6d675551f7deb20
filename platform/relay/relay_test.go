package relay_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/platform/relay"
)

func TestCursorRoundTripsForItsTenantOnly(t *testing.T) {
	c := relay.Cursor("tenant-a", "1733270400000|0b8e8f4e")
	assert.Equal(t, c, relay.Cursor("tenant-a", "1733270400000|0b8e8f4e"), "stable: the same position gives the same cursor")
	assert.NotContains(t, c, "tenant-a")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	require.NoError(t, err, "base64url")
	assert.NotContains(t, string(raw), "tenant-a", "the tenant is a digest, not its name")

	got, err := relay.Open("op", "tenant-a", c)
	require.NoError(t, err)
	assert.Equal(t, "1733270400000|0b8e8f4e", got)

	for _, tc := range []struct {
		name, tenant, cursor, want string
	}{
		{"another tenant", "tenant-b", c, "another tenant's listing"},
		{"not base64", "tenant-a", "!!", "not a cursor"},
		{"base64 of something else", "tenant-a", base64.RawURLEncoding.EncodeToString([]byte("u42")), "not a cursor"},
		{"a domain's raw cursor", "tenant-a", base64.RawURLEncoding.EncodeToString([]byte("1733270400000|x")), "not a cursor"},
		{"empty position", "tenant-a", base64.RawURLEncoding.EncodeToString([]byte("c1." + "000000000000.")), "not a cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := relay.Open("resolvers.x", tc.tenant, tc.cursor)
			require.Error(t, err)
			assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
			assert.Equal(t, "after", errs.PublicFields(err)["field"])
			assert.Contains(t, errs.PublicMessage(err), tc.want)
		})
	}
	got, err = relay.Open("op", "tenant-a", "")
	require.NoError(t, err)
	assert.Empty(t, got, "no cursor: the first page")
}

func TestWindow(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	for _, tc := range []struct {
		name     string
		first    int
		after    string
		want     []string
		more     bool
		errField string
	}{
		{"default size", 0, "", []string{"a", "b"}, true, ""},
		{"first page", 3, "", []string{"a", "b", "c"}, true, ""},
		{"middle", 2, "b", []string{"c", "d"}, true, ""},
		{"last page exactly", 2, "c", []string{"d", "e"}, false, ""},
		{"after the last", 2, "e", []string{}, false, ""},
		{"all", 10, "", items, false, ""},
		{"gone", 2, "x", nil, false, "after"},
		{"too big", 11, "", nil, false, "first"},
		{"negative", -1, "", nil, false, "first"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, more, err := relay.Window("op", items, tc.first, 2, 10, tc.after, id)
			if tc.errField != "" {
				require.Error(t, err)
				assert.Equal(t, errs.KindInvalid, errs.KindOf(err))
				assert.Equal(t, tc.errField, errs.PublicFields(err)["field"])
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, page)
			assert.Equal(t, tc.more, more)
		})
	}
}
