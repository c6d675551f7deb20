package rowfile

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/learnhub/analytics-service/store"
)

func TestXLSXNewSheetWhenFull(t *testing.T) {
	var buf bytes.Buffer
	enc := &xlsxEncoder{w: &buf, loc: time.UTC, sheetRows: 3}
	require.NoError(t, enc.Begin([]store.Column{{Name: "n", Type: "UInt64"}}))
	for i := range 5 {
		require.NoError(t, enc.Row([]any{uint64(i)}))
	}
	require.NoError(t, enc.Close())
	f, err := excelize.OpenReader(&buf)
	require.NoError(t, err)
	defer f.Close()
	assert.Equal(t, []string{"Sheet1", "Sheet2", "Sheet3"}, f.GetSheetList())
	var got []string
	for _, sh := range f.GetSheetList() {
		rows, err := f.GetRows(sh)
		require.NoError(t, err)
		assert.Equal(t, []string{"n"}, rows[0], "every sheet repeats the header")
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
	}
	assert.Equal(t, []string{"0", "1", "2", "3", "4"}, got)
	assert.Equal(t, 1_048_576, maxSheetRows)
}
