package jobs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"

	"github.com/learnhub/analytics-service/platform/errs"
)

// TaskID is the deterministic Asynq task id of t and its JSON params:
// "<kind>:<first 32 hex digits of sha256(kind, tenant, key, params)>". Equal
// input gives an equal id, so Asynq refuses the second enqueue while the first
// task is pending, running, retrying, archived or retained as completed.
func TaskID(t Task) (id string, params json.RawMessage, err error) {
	if t.Params != nil {
		params, err = json.Marshal(t.Params)
		if err != nil {
			return "", nil, errs.Wrap("jobs.TaskID", errs.KindInternal, err, "task params do not marshal")
		}
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(t.Kind), []byte(t.Tenant), []byte(t.Key), params} {
		writeField(h, part)
	}
	return t.Kind + ":" + hex.EncodeToString(h.Sum(nil)[:16]), params, nil
}

// writeField length-prefixes each part so ("ab","c") and ("a","bc") differ.
func writeField(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}
