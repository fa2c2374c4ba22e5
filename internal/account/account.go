// Package account deletes a person's account so that nothing names them
// afterwards: grants revoked at the providers, sessions ended, export
// archives removed from disk, every row of theirs deleted (ON DELETE
// CASCADE from users, including the access logs of their links), their ids
// and email scrubbed from job logs (cron_executions.result_data), and
// anything else registered as a Forget hook (rate-limit keys).
package account

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// Deps are what deletion goes through.
type Deps struct {
	DB      *store.DB
	Auth    *auth.Service
	Connect *connect.Flow
	// DeleteFiles removes files naming the user (export archives).
	DeleteFiles func(ctx context.Context, userID string) error
	// Forget hooks erase what other stores keep under the user's id
	// (rate-limit counters …); they run after the rows are gone.
	Forget []func(ctx context.Context, userID string) error
	Logger *slog.Logger
}

// Service deletes accounts.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

// Delete revokes v's grants at the providers (best effort: a provider that
// is down does not keep the account alive), ends the session, removes the
// export files, deletes the user (every table cascades) and scrubs the
// user's ids and email from job logs.
func (s *Service) Delete(ctx context.Context, v *auth.Viewer) error {
	u := v.User
	conns, err := s.d.DB.ListConnections(ctx, u.ID)
	if err != nil {
		return err
	}
	needles := []string{u.ID, u.Email}
	for _, c := range conns {
		needles = append(needles, c.ID)
		if c.Status == store.StatusDisconnected {
			continue
		}
		if _, err := s.d.Connect.Disconnect(ctx, u.ID, platform.ID(c.Platform), false); err != nil {
			s.d.Logger.WarnContext(ctx, "account: revoke before deletion", slog.String("platform", string(c.Platform)), slog.Any("error", err))
		}
	}
	if err := s.d.Auth.Logout(ctx, v); err != nil {
		return err
	}
	if s.d.DeleteFiles != nil {
		if err := s.d.DeleteFiles(ctx, u.ID); err != nil {
			return fmt.Errorf("account: delete files: %w", err)
		}
	}
	if err := s.d.DB.UnlinkVisitorConversations(ctx, u.ID); err != nil {
		return err
	}
	if err := s.d.DB.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	// From here the account is gone; what follows erases traces, and a
	// failure is reported so an operator can finish it.
	var firstErr error
	if n, err := s.d.DB.ScrubCronResults(ctx, needles...); err != nil {
		firstErr = err
	} else if n > 0 {
		s.d.Logger.InfoContext(ctx, "account: scrubbed job logs of a deleted account", slog.Int64("rows", n))
	}
	for _, f := range s.d.Forget {
		if err := f(ctx, u.ID); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		s.d.Logger.ErrorContext(ctx, "account: traces left after deletion", slog.Any("error", firstErr))
		return fmt.Errorf("account: deleted, but erasing traces failed: %w", firstErr)
	}
	return nil
}
