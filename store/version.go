package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/learnhub/analytics-service/platform/errs"
)

// Version is a ClickHouse version (major.minor.patch; the build part is ignored).
type Version struct{ Major, Minor, Patch int }

// MinServerVersion is the oldest ClickHouse server the service supports: the
// first LTS with the JSON type production-ready.
var MinServerVersion = Version{25, 3, 0}

// ParseVersion reads "26.7.3.1" or "18.16.1".
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	var v Version
	dst := []*int{&v.Major, &v.Minor, &v.Patch}
	for i := 0; i < len(dst) && i < len(parts); i++ {
		n, err := strconv.Atoi(parts[i])
		if err != nil {
			return Version{}, fmt.Errorf("store: version %q: part %d is not a number", s, i+1)
		}
		*dst[i] = n
	}
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("store: version %q: want major.minor[.patch]", s)
	}
	return v, nil
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Major != o.Major {
		return v.Major < o.Major
	}
	if v.Minor != o.Minor {
		return v.Minor < o.Minor
	}
	return v.Patch < o.Patch
}

// String formats v as major.minor.patch.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// CheckServerVersion refuses servers older than MinServerVersion with a
// message that names both versions and what to do.
func CheckServerVersion(raw string) error {
	v, err := ParseVersion(raw)
	if err != nil {
		return errs.Wrap("store.CheckServerVersion", errs.KindUnavailable, err, "could not read the ClickHouse server version")
	}
	if v.Less(MinServerVersion) {
		return errs.E("store.CheckServerVersion", errs.KindUnavailable, fmt.Sprintf(
			"ClickHouse server %s is older than the minimum supported version %s: upgrade the server, or unset ANALYTICS_CLICKHOUSE_URL to use the embedded engine",
			raw, MinServerVersion))
	}
	return nil
}
