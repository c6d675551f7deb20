package exports

import (
	"context"
	"time"
)

// Completed is the payload of analytics.export.completed.v1.
type Completed struct {
	Tenant       string    `json:"tenant_id"`
	ExportID     string    `json:"export_id"`
	Format       Format    `json:"format"`
	Source       string    `json:"source"`
	Rows         uint64    `json:"rows"`
	Bytes        uint64    `json:"bytes"`
	FileName     string    `json:"file_name"`
	URL          string    `json:"url"`
	URLExpiresAt time.Time `json:"url_expires_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	RequestedBy  string    `json:"requested_by"`
	CompletedAt  time.Time `json:"completed_at"`
}

// Failed is the payload of analytics.export.failed.v1.
type Failed struct {
	Tenant      string    `json:"tenant_id"`
	ExportID    string    `json:"export_id"`
	Format      Format    `json:"format"`
	Source      string    `json:"source"`
	Error       string    `json:"error"`
	RequestedBy string    `json:"requested_by"`
	FailedAt    time.Time `json:"failed_at"`
}

// publishCompleted sends the completed event of j with Nats-Msg-Id
// "export.completed/<id>", so a job run twice is announced once.
func (s *Service) publishCompleted(ctx context.Context, j *Job, url string) error {
	ev := Completed{
		Tenant: j.Tenant, ExportID: j.ID, Format: j.Format, Source: string(j.Source), Rows: j.Rows, Bytes: j.Bytes,
		FileName: j.FileName(), URL: url, URLExpiresAt: deref(j.URLExpiresAt), ExpiresAt: deref(j.ExpiresAt),
		RequestedBy: j.RequestedBy, CompletedAt: deref(j.FinishedAt),
	}
	return s.deps.Bus.Publish(ctx, SubjectCompleted, ev, "export.completed/"+j.ID)
}

// publishFailed sends the failed event of j ("export.failed/<id>").
func (s *Service) publishFailed(ctx context.Context, j *Job) error {
	ev := Failed{
		Tenant: j.Tenant, ExportID: j.ID, Format: j.Format, Source: string(j.Source), Error: j.Error,
		RequestedBy: j.RequestedBy, FailedAt: deref(j.FinishedAt),
	}
	return s.deps.Bus.Publish(ctx, SubjectFailed, ev, "export.failed/"+j.ID)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
