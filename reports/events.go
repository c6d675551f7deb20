package reports

import (
	"context"
	"time"
)

// RunRef names the run an event is about; both run events start with it.
type RunRef struct {
	Tenant       string    `json:"tenant_id"`
	ReportID     string    `json:"report_id"`
	ReportName   string    `json:"report_name"`
	RunID        string    `json:"run_id"`
	Trigger      Trigger   `json:"trigger"`
	ScheduledFor time.Time `json:"scheduled_for"`
}

// Generated is the payload of analytics.report.generated.v1, also the body
// of webhook deliveries.
type Generated struct {
	RunRef
	PeriodFrom   time.Time `json:"period_from"`
	PeriodTo     time.Time `json:"period_to"`
	Format       Format    `json:"format"`
	FileName     string    `json:"file_name"`
	Bytes        uint64    `json:"bytes"`
	URL          string    `json:"url"`
	URLExpiresAt time.Time `json:"url_expires_at"`
	GeneratedAt  time.Time `json:"generated_at"`
}

// Failed is the payload of analytics.report.failed.v1: a run that ended
// FAILED (after its retries, or at once for bad input such as a deleted
// dashboard).
type Failed struct {
	RunRef
	// Error is the client-safe reason, as in the run history.
	Error    string    `json:"error"`
	FailedAt time.Time `json:"failed_at"`
}

// publishFailed sends the event of a FAILED run with Nats-Msg-Id
// "report.failed/<run id>", so a run is announced failed once however often
// its last attempt is redelivered.
func (s *Service) publishFailed(ctx context.Context, rep *Report, run *Run) error {
	ev := &Failed{RunRef: runRef(rep, run), Error: run.Error, FailedAt: deref(run.FinishedAt)}
	return s.deps.Bus.Publish(ctx, SubjectFailed, ev, "report.failed/"+run.ID)
}

// generated is the event of a SUCCEEDED run, with a URL signed until
// FinishedAt + URLTTL (the same for every retry of the run).
func (s *Service) generated(ctx context.Context, rep *Report, run *Run) (*Generated, error) {
	finished := deref(run.FinishedAt)
	exp := finished.Add(s.cfg.URLTTL)
	url, err := s.deps.Blobs.SignedURL(ctx, run.ObjectKey, exp)
	if err != nil {
		return nil, err
	}
	return &Generated{RunRef: runRef(rep, run), PeriodFrom: run.PeriodFrom, PeriodTo: run.PeriodTo, Format: run.Format,
		FileName: run.FileName(), Bytes: run.Bytes, URL: url, URLExpiresAt: exp, GeneratedAt: finished}, nil
}

// publishGenerated sends the event of a run with Nats-Msg-Id
// "report.generated/<run id>", so a run finished twice is announced once.
func (s *Service) publishGenerated(ctx context.Context, ev *Generated) error {
	return s.deps.Bus.Publish(ctx, SubjectGenerated, ev, "report.generated/"+ev.RunID)
}

func runRef(rep *Report, run *Run) RunRef {
	return RunRef{Tenant: run.Tenant, ReportID: run.ReportID, ReportName: rep.Name, RunID: run.ID, Trigger: run.Trigger,
		ScheduledFor: run.ScheduledFor}
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
