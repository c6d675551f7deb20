package exports_test

import (
	"bytes"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/learnhub/analytics-service/timerange"
)

func timerangeAbs(from, to time.Time) timerange.Spec { return timerange.Spec{From: &from, To: &to} }

func jetstreamSubjects(s string) jetstream.StreamInfoOpt { return jetstream.WithSubjectFilter(s) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
