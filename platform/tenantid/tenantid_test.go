package tenantid

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"acme", true},
		{"a", true},
		{"0day", true},
		{"acme-corp_2", true},
		{strings.Repeat("a", MaxLen), true},
		{"", false},
		{strings.Repeat("a", MaxLen+1), false},
		{"dlq", false},
		{"Acme", false},
		{"ACME", false},
		{"-acme", false},
		{"_acme", false},
		{"a.b", false},
		{"a/b", false},
		{"äcme", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			assert.Equal(t, tc.want, Valid(tc.id))
			assert.Equal(t, tc.want, Problem(tc.id) == "", Problem(tc.id))
		})
	}
	assert.Contains(t, Problem("dlq"), "reserved")
	assert.Contains(t, Problem("Acme"), "a-z")
	assert.Contains(t, Problem(strings.Repeat("a", 65)), "65")
}
