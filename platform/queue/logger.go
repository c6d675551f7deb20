package queue

import (
	"context"
	"fmt"
	"log/slog"
)

// asynqLogger routes Asynq's own log lines into slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.log(slog.LevelDebug, args) }
func (a asynqLogger) Info(args ...any)  { a.log(slog.LevelInfo, args) }
func (a asynqLogger) Warn(args ...any)  { a.log(slog.LevelWarn, args) }
func (a asynqLogger) Error(args ...any) { a.log(slog.LevelError, args) }

// Fatal logs at error level; it does not exit (Asynq never calls it, and the
// composition root decides when the process ends).
func (a asynqLogger) Fatal(args ...any) { a.log(slog.LevelError, args) }

func (a asynqLogger) log(level slog.Level, args []any) {
	a.l.Log(context.Background(), level, fmt.Sprint(args...), slog.String("component", "asynq"))
}
