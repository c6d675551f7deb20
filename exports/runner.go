package exports

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/learnhub/analytics-service/jobs"
	"github.com/learnhub/analytics-service/platform/errs"
	"github.com/learnhub/analytics-service/store"
	"github.com/learnhub/analytics-service/timerange"
)

var (
	// errCancelled stops a run whose job was cancelled.
	errCancelled = errors.New("export cancelled")
	// errUploadStopped is what the encoder sees when the upload ended
	// before it; the upload's own error is the cause then.
	errUploadStopped = errors.New("upload stopped")
)

// Runner returns the jobs.Handler of KindRun.
//
// It is idempotent: the object key is a function of the job id and Put
// replaces atomically, so a second run leaves one object; events carry the
// job id as Nats-Msg-Id, so they are stored once; a job already SUCCEEDED
// only re-publishes its (deduplicated) event, which covers a crash between
// marking and publishing; a CANCELLED, FAILED or EXPIRED job is left alone.
func (s *Service) Runner() jobs.Handler { return jobs.HandlerFunc(s.run) }

func (s *Service) run(ctx context.Context, tj jobs.Job) error {
	const op = "exports.run"
	if s.deps.Bus == nil {
		return errs.E(op, errs.KindInternal, "the export worker needs a bus")
	}
	var p runParams
	if err := tj.Decode(&p); err != nil {
		return err
	}
	scope, err := store.DangerousScopeForTenant(tj.Tenant)
	if err != nil {
		return errs.Wrap(op, errs.KindInvalid, err, "export task has no tenant")
	}
	j, err := s.repo.get(ctx, scope, p.JobID)
	if err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return errs.Wrap(op, errs.KindInvalid, err, "export job row is missing")
		}
		return err
	}
	switch j.Status {
	case StatusSucceeded:
		url, err := s.deps.Blobs.SignedURL(ctx, j.ObjectKey, deref(j.URLExpiresAt))
		if err != nil {
			return err
		}
		return s.publishCompleted(ctx, j, url)
	case StatusFailed:
		return s.publishFailed(ctx, j)
	case StatusCancelled, StatusExpired:
		return nil
	}
	now := s.now()
	j.Status, j.StartedAt, j.Rows, j.Bytes, j.Error = StatusRunning, &now, 0, 0, ""
	if err := s.repo.save(ctx, j); err != nil {
		return err
	}
	err = s.write(ctx, j)
	switch {
	case errors.Is(err, errCancelled):
		return s.deps.Blobs.Delete(context.WithoutCancel(ctx), j.ObjectKey)
	case err != nil:
		return s.fail(ctx, tj, j, err)
	}
	return s.succeed(ctx, j)
}

// write streams the rows of j through its encoder into the blob store.
func (s *Service) write(ctx context.Context, j *Job) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loc, err := timerange.Location(j.Spec.Options.Timezone, "options.timezone")
	if err != nil {
		return err
	}
	src, err := s.open(ctx, j)
	if err != nil {
		return err
	}
	rows := newPrefetchStream(src)
	defer rows.Close()
	pr, pw := io.Pipe()
	counter := &countingWriter{w: pw}
	done := make(chan error, 1)
	go func() {
		err := s.encode(ctx, j, rows, counter, loc)
		pw.CloseWithError(err)
		done <- err
	}()
	putErr := s.deps.Blobs.Put(ctx, j.ObjectKey, pr)
	pr.CloseWithError(errUploadStopped)
	encErr := <-done
	switch {
	case encErr != nil && (putErr == nil || !errors.Is(encErr, errUploadStopped)):
		return encErr
	case putErr != nil:
		return putErr
	}
	j.Bytes = uint64(counter.n.Load())
	return s.checkCancelled(ctx, j)
}

// encode writes every row of rows to w in the job's format, updating
// progress (and noticing a cancellation) every ProgressEvery rows, but not
// more often than watchers read it (WatchInterval): each update is two
// statements, which at every 10 000 rows took a third of an export's time.
func (s *Service) encode(ctx context.Context, j *Job, rows rowStream, w *countingWriter, loc *time.Location) error {
	var out io.Writer = w
	var gz *gzip.Writer
	if j.Spec.Options.Gzip && j.Format.Text() {
		gz = gzip.NewWriter(w)
		out = gz
	}
	enc, err := newEncoder(j.Format, out, loc)
	if err != nil {
		return err
	}
	if err := enc.Begin(rows.Columns()); err != nil {
		return err
	}
	var n uint64
	var saved time.Time // when progress was last stored
	for rows.Next() {
		if err := enc.Row(rows.Values()); err != nil {
			return err
		}
		n++
		if n > uint64(s.cfg.MaxRows) {
			return errs.E("exports.run", errs.KindInvalid, fmt.Sprintf("the export has more than %d rows; narrow the time range or filter it", s.cfg.MaxRows))
		}
		if n%uint64(s.cfg.ProgressEvery) == 0 && time.Since(saved) >= s.cfg.WatchInterval {
			saved = time.Now()
			j.Rows, j.Bytes = n, uint64(w.n.Load())
			if err := s.checkCancelled(ctx, j); err != nil {
				return err
			}
			if err := s.repo.save(ctx, j); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	j.Rows = n
	if err := enc.Close(); err != nil {
		return err
	}
	if gz != nil {
		return gz.Close()
	}
	return nil
}

// checkCancelled reads the job's stored status: CANCELLED is errCancelled.
func (s *Service) checkCancelled(ctx context.Context, j *Job) error {
	scope, err := store.DangerousScopeForTenant(j.Tenant)
	if err != nil {
		return err
	}
	cur, err := s.repo.get(ctx, scope, j.ID)
	if err != nil {
		return err
	}
	if cur.Status == StatusCancelled {
		return errCancelled
	}
	j.Version = max(j.Version, cur.Version)
	return nil
}

// succeed marks j SUCCEEDED and announces it.
func (s *Service) succeed(ctx context.Context, j *Job) error {
	now := s.now()
	exp := now.Add(s.cfg.Retention)
	urlExp := now.Add(s.cfg.URLTTL)
	if urlExp.After(exp) {
		urlExp = exp
	}
	url, err := s.deps.Blobs.SignedURL(ctx, j.ObjectKey, urlExp)
	if err != nil {
		return err
	}
	j.Status, j.FinishedAt, j.ExpiresAt, j.URLExpiresAt = StatusSucceeded, &now, &exp, &urlExp
	if err := s.repo.save(ctx, j); err != nil {
		return err
	}
	return s.publishCompleted(ctx, j, url)
}

// fail records a failed run: on the last attempt (or for bad input) the job
// becomes FAILED and is announced; otherwise the error goes back to Asynq
// for a retry.
func (s *Service) fail(ctx context.Context, tj jobs.Job, j *Job, cause error) error {
	final := errs.Is(cause, errs.KindInvalid) || tj.Retried >= tj.MaxRetry
	if !final {
		return cause
	}
	ctx = context.WithoutCancel(ctx)
	now := s.now()
	j.Status, j.FinishedAt, j.Error = StatusFailed, &now, errs.PublicMessage(cause)
	if err := s.repo.save(ctx, j); err != nil {
		return errors.Join(cause, err)
	}
	if err := s.publishFailed(ctx, j); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
