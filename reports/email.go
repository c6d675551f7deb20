package reports

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"

	"github.com/learnhub/analytics-service/platform/errs"
)

// SMTPMailer sends mail through one SMTP server (net/smtp), upgrading to
// TLS when the server offers STARTTLS and authenticating with PLAIN when a
// username is set (net/smtp allows PLAIN only over TLS or to localhost).
type SMTPMailer struct {
	// Addr is host:port of the server.
	Addr string
	// From is the envelope and header sender.
	From     string
	Username string
	Password string
	// HeloName is the name sent in EHLO; empty means "localhost".
	HeloName string
}

// Send delivers msg (an RFC 5322 message without From, which Send adds)
// to the recipients. A
// refused connection or a 4xx reply is KindUnavailable (retried); a 5xx
// reply is KindInvalid.
func (m *SMTPMailer) Send(ctx context.Context, to []string, msg []byte) error {
	const op = "reports.smtp"
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return errs.Wrap(op, errs.KindInternal, err, "SMTP address is not host:port")
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return errs.Wrap(op, errs.KindUnavailable, err, "mail server does not answer")
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return smtpErr(op, err)
	}
	defer func() { _ = c.Close() }()
	helo := m.HeloName
	if helo == "" {
		helo = "localhost"
	}
	if err := c.Hello(helo); err != nil {
		return smtpErr(op, err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return smtpErr(op, err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return smtpErr(op, err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return smtpErr(op, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return smtpErr(op, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr(op, err)
	}
	if _, err := w.Write(append([]byte("From: "+m.From+"\r\n"), msg...)); err != nil {
		return smtpErr(op, err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(op, err)
	}
	return smtpErr(op, c.Quit())
}

// smtpErr classifies an SMTP failure: permanent 5xx replies are
// KindInvalid, everything else may pass and is KindUnavailable.
func smtpErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if te, ok := err.(*textproto.Error); ok && te.Code >= 500 {
		return errs.Wrap(op, errs.KindInvalid, err, fmt.Sprintf("mail server refused the message (%d %s)", te.Code, te.Msg))
	}
	return errs.Wrap(op, errs.KindUnavailable, err, "mail server failed; will retry")
}

// sendEmail mails the run's file as an attachment (a link only when it is
// larger than Config.MaxAttachment) to the delivery's recipients.
func (s *Service) sendEmail(ctx context.Context, d Delivery, rep *Report, run *Run, ev *Generated) error {
	const op = "reports.email"
	if s.deps.Mailer == nil {
		return errs.E(op, errs.KindInvalid, "email delivery is not configured on this server")
	}
	var file []byte
	if run.Bytes <= uint64(s.cfg.MaxAttachment) {
		r, err := s.deps.Blobs.Open(ctx, run.ObjectKey)
		if err != nil {
			return err
		}
		file, err = io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			return errs.Wrap(op, errs.KindUnavailable, err, "cannot read the report file")
		}
	}
	msg, err := emailMessage(d.To, rep, run, ev, file, s.cfg.Now())
	if err != nil {
		return err
	}
	return s.deps.Mailer.Send(ctx, d.To, msg)
}

// emailMessage is a multipart/mixed message: a short text with the period
// and the download link, then the file (when given) as an attachment. Its
// Message-ID is derived from the run, so a retried send can be recognised.
func emailMessage(to []string, rep *Report, run *Run, ev *Generated, file []byte, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "Report: "+rep.Name))
	hdr("Date", now.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+run.ID+"@reports.analyticsd>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	text, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}, "Content-Transfer-Encoding": {"8bit"}})
	if err != nil {
		return nil, errs.Wrap("reports.email", errs.KindInternal, err, "")
	}
	fmt.Fprintf(text, "Your report %q is ready.\r\n\r\nPeriod: %s to %s\r\n", rep.Name,
		ev.PeriodFrom.UTC().Format(time.RFC3339), ev.PeriodTo.UTC().Format(time.RFC3339))
	if file == nil {
		fmt.Fprintf(text, "The file is too large to attach.\r\n")
	}
	fmt.Fprintf(text, "Download (until %s): %s\r\n", ev.URLExpiresAt.UTC().Format(time.RFC1123), ev.URL)
	if file != nil {
		att, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {run.Format.ContentType() + `; name="` + run.FileName() + `"`},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {`attachment; filename="` + run.FileName() + `"`},
		})
		if err != nil {
			return nil, errs.Wrap("reports.email", errs.KindInternal, err, "")
		}
		enc := base64.StdEncoding.EncodeToString(file)
		for len(enc) > 76 {
			_, _ = io.WriteString(att, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		_, _ = io.WriteString(att, enc+"\r\n")
	}
	if err := mw.Close(); err != nil {
		return nil, errs.Wrap("reports.email", errs.KindInternal, err, "")
	}
	return b.Bytes(), nil
}
