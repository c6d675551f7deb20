package resolvers

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/ingest"
)

func toModelDeadLetter(d ingest.DeadLetterRecord) *model.DeadLetter {
	return &model.DeadLetter{ReceivedAt: d.ReceivedAt, Subject: d.Subject, Reason: string(d.Reason), Message: d.Message, Payload: d.Payload}
}

// deadLetterPosition names a dead letter in deadLettersConnection (they have
// no id): its time and a digest of its subject and payload.
func deadLetterPosition(d ingest.DeadLetterRecord) string {
	sum := sha256.Sum256([]byte(d.Subject + "\x00" + d.Payload))
	return strconv.FormatInt(d.ReceivedAt.UnixMilli(), 10) + "|" + hex.EncodeToString(sum[:8])
}
