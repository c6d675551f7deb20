package sqlparse

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrorsCarryPositions(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"settings", "SELECT 1\nFROM events\nSETTINGS readonly = 0", 3, 1, "SETTINGS is not allowed"},
		{"format", "SELECT 1 FORMAT CSV", 1, 10, "FORMAT is not allowed"},
		{"two statements", "SELECT 1; SELECT 2", 1, 11, "multiple statements"},
		{"not a select", "  DROP TABLE events", 1, 3, "only SELECT queries are allowed"},
		{"missing from table", "SELECT a FROM WHERE x", 1, 15, "expected a table name"},
		{"look-alike", "SELECT ｘ", 1, 8, "U+FF58"},
		{"unterminated string", "SELECT 'abc", 1, 8, "unterminated string"},
		{"bad join", "SELECT 1 FROM a LEFT b", 1, 22, "expected JOIN"},
		{"union without all", "SELECT 1 UNION SELECT 2", 1, 16, "expected ALL or DISTINCT"},
		{"limit not a number", "SELECT 1 LIMIT x", 1, 16, "LIMIT takes a whole number"},
		{"deep nesting", "SELECT " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200), 1, 0, "nests more than"},
		{"columns count characters", "SELECT 'é', ?", 1, 13, "expected an expression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.src, Limits{})
			var pe *Error
			require.True(t, errors.As(err, &pe), "want *Error, got %v", err)
			assert.Equal(t, tc.line, pe.Pos.Line)
			if tc.col > 0 {
				assert.Equal(t, tc.col, pe.Pos.Col)
			}
			assert.Contains(t, pe.Msg, tc.msg)
		})
	}
}

func TestParseShapes(t *testing.T) {
	q, err := Parse("SELECT quantile(0.9)(x), properties.score.:Int64 FROM events AS e LEFT JOIN t USING (a) LIMIT 5", Limits{})
	require.NoError(t, err)
	s := q.Selects[0]
	c := s.Columns[0].(*Call)
	assert.Equal(t, "quantile", c.Name)
	require.Len(t, c.Params, 1)
	assert.Equal(t, 0.9, c.Params[0].(*Literal).Value)
	id := s.Columns[1].(*Ident)
	assert.Equal(t, []string{"properties", "score"}, id.Parts)
	assert.Equal(t, "Int64", id.SubType.Name)
	assert.Equal(t, "e", s.From.First.Alias)
	assert.Equal(t, "LEFT", s.From.Joins[0].Type)
	assert.Equal(t, []string{"a"}, s.From.Joins[0].Using)
	assert.Equal(t, int64(5), s.Limit.Value)
}
