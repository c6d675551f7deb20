package ingest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The source id is the dead letters' dedup id ("dlq:" + id): its format
// must not drift, or a redelivered refusal would be published twice.
func TestMessageIDFormat(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, "EVENTS:42", streamMessage("EVENTS", 42, "events.acme.user.login", nil, at).ID())
	subjects := map[string]string{}
	for _, tc := range []struct {
		partition int32
		offset    int64
		want      string
	}{
		{3, 1207, "analytics.events/3/1207"},
		{0, 0, "analytics.events/0/0"},
	} {
		r := &kgo.Record{Topic: "analytics.events", Partition: tc.partition, Offset: tc.offset, Value: []byte("{}"),
			Headers: []kgo.RecordHeader{{Key: kafkaHeaderSubject, Value: []byte("events.acme.user.login")}}}
		m := fromKafka(r, subjects)
		assert.Equal(t, tc.want, m.ID())
		assert.Equal(t, "events.acme.user.login", m.Subject)
	}
	assert.Len(t, subjects, 1, "one interned subject for both records")
}
