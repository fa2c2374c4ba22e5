package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/store"
)

// alertIfDue posts an alert when ex is the run whose failure streak reaches
// the threshold, and a recovery when ex is the first success after a streak
// that had reached it. Both are derived from cron_executions, so every
// streak alerts once and recovers once whichever instance ran it, and a
// restart does not alert again.
func (s *Scheduler) alertIfDue(ctx context.Context, ex store.CronExecution) {
	if s.opts.AlertWebhookURL == "" {
		return
	}
	var msg string
	switch {
	case ex.Status.Failed():
		n, err := s.db.CronConsecutiveFailures(ctx, ex.JobName, &ex)
		if err != nil {
			s.log.Error("scheduler: cannot count failures for alerting", slog.String("job", ex.JobName), slog.Any("error", err))
			return
		}
		if n != s.opts.AlertAfter {
			return
		}
		msg = fmt.Sprintf("twinme: job %s failed %d times in a row (last run: %s on %s: %s)",
			ex.JobName, n, ex.Status, ex.Instance, ex.ErrorMessage)
	case ex.Status == store.CronSuccess:
		n, err := s.db.CronFailureStreakBefore(ctx, ex.JobName, &ex)
		if err != nil {
			s.log.Error("scheduler: cannot count failures for alerting", slog.String("job", ex.JobName), slog.Any("error", err))
			return
		}
		if n < s.opts.AlertAfter {
			return
		}
		msg = fmt.Sprintf("twinme: job %s recovered after %d failed runs (succeeded on %s)", ex.JobName, n, ex.Instance)
	default:
		return
	}
	if err := s.postAlert(ctx, msg); err != nil {
		// The webhook URL carries its own secret: never log it.
		s.log.Warn("scheduler: alert webhook failed", slog.String("job", ex.JobName), slog.Any("error", err))
	}
}

// alertBody is accepted by both kinds of incoming webhook; each ignores the
// other's field.
//   - Slack (https://api.slack.com/messaging/webhooks): POST JSON with a
//     "text" field, in Slack's mrkdwn where &, < and > must be escaped.
//   - Discord (https://discord.com/developers/docs/resources/webhook#execute-webhook):
//     POST JSON with "content", up to 2000 characters, one of content,
//     embeds, files or poll required; allowed_mentions {"parse": []} stops
//     an error message from pinging @everyone.
type alertBody struct {
	Text            string          `json:"text"`
	Content         string          `json:"content"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

type allowedMentions struct {
	Parse []string `json:"parse"`
}

// discordMaxContent is Discord's limit on "content".
const discordMaxContent = 2000

func newAlertBody(msg string) alertBody {
	content := msg
	if r := []rune(content); len(r) > discordMaxContent {
		content = string(r[:discordMaxContent-1]) + "…"
	}
	slack := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(msg)
	return alertBody{Text: slack, Content: content, AllowedMentions: allowedMentions{Parse: []string{}}}
}

func (s *Scheduler) postAlert(ctx context.Context, msg string) error {
	b, err := json.Marshal(newAlertBody(msg))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.AlertWebhookURL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("scheduler: alert request: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		// url.Error includes the URL; report only the cause.
		return fmt.Errorf("scheduler: post alert: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("scheduler: post alert: webhook answered %s", resp.Status)
	}
	s.log.Info("scheduler: alert posted", slog.String("message", msg))
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
