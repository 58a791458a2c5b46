package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/milvault/milvault/jobs"
)

// WebhookConfig is a policy's notification target: a URL that receives a
// JSON POST when the policy starts failing and when it recovers. The URL is
// a secret (Slack and Teams put the credential in it): it comes from an
// environment variable or a file and is never logged.
type WebhookConfig struct {
	URLEnv  string `yaml:"url_env"`
	URLFile string `yaml:"url_file"`

	url string
}

// Notification is the JSON body of a webhook: "text" is what Slack- and
// Teams-style receivers show; the other fields are for machines.
type Notification struct {
	Text   string `json:"text"`
	Policy string `json:"policy"`
	// Status is "failing" (the first failure after a success) or
	// "recovered" (the first success after failures).
	Status   string    `json:"status"`
	JobID    string    `json:"job_id"`
	Error    string    `json:"error,omitempty"`
	Failures int       `json:"consecutive_failures,omitempty"`
	At       time.Time `json:"at"`
}

// notifyAttempts and notifyBackoff bound the retries of one notification.
const (
	notifyAttempts = 4
	notifyBackoff  = time.Second
)

// notify sends the webhook of j's policy when j changes the policy's
// health: its first failure after a success, or its first success after
// failures (failures is the count before j).
func (s *Service) notify(j jobs.Job, failuresBefore int) {
	pol, ok := s.config().Policies[j.Policy]
	if !ok || pol.Webhook == nil || pol.Webhook.url == "" {
		return
	}
	n := Notification{Policy: j.Policy, JobID: j.ID, At: j.FinishedAt}
	switch {
	case j.State == jobs.StateSucceeded && failuresBefore > 0:
		n.Status = "recovered"
		n.Text = fmt.Sprintf("milvault: policy %s recovered after %d failed runs (job %s)", j.Policy, failuresBefore, j.ID)
	case j.State != jobs.StateSucceeded && failuresBefore == 0:
		n.Status, n.Error, n.Failures = "failing", j.Error, 1
		n.Text = fmt.Sprintf("milvault: policy %s failed (job %s): %s", j.Policy, j.ID, j.Error)
	default:
		return
	}
	go func() {
		if err := postWebhook(context.Background(), pol.Webhook.url, n, notifyBackoff); err != nil {
			s.opts.Logger.Error("webhook not delivered", "policy", j.Policy, "status", n.Status, "error", err)
		}
	}()
}

// postWebhook POSTs n, retrying server errors and network failures after
// backoff, doubled each time. Errors never include the URL.
func postWebhook(ctx context.Context, u string, n Notification, backoff time.Duration) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var last error
	for attempt := range notifyAttempts {
		if attempt > 0 {
			time.Sleep(backoff << (attempt - 1))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return errors.New("the webhook URL is not a valid URL")
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = redactURLError(err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("the receiver answered %s", resp.Status)
		if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
			return last
		}
	}
	return fmt.Errorf("%d attempts: %w", notifyAttempts, last)
}

// redactURLError drops the URL that *url.Error carries.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s webhook: %w", ue.Op, ue.Err)
	}
	return err
}
