package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// maxBody bounds how much of a response is read; identity and error bodies
// are small, and a misbehaving server must not exhaust memory.
const maxBody = 4 << 20

// apiRequest is one authenticated REST call.
type apiRequest struct {
	method  string
	url     string
	token   string
	header  map[string]string
	body    io.Reader
	bodyCT  string
	basicID string // HTTP Basic instead of Bearer when set
	basicPW string
}

// do performs the call and returns the status and body of a successful
// response; any failure the provider reports comes back as *APIError.
func (p Provider) do(ctx context.Context, client *http.Client, r apiRequest) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, r.method, r.url, r.body)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	switch {
	case r.basicID != "":
		req.SetBasicAuth(r.basicID, r.basicPW)
	case r.token != "":
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.bodyCT != "" {
		req.Header.Set("Content-Type", r.bodyCT)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read response: %w", err)
	}
	if apiErr := ClassifyAPIError(p.ID, resp.StatusCode, resp.Header, body); apiErr != nil {
		return resp.StatusCode, body, apiErr
	}
	return resp.StatusCode, body, nil
}

// getJSON GETs url with the bearer token and decodes the JSON answer.
func (p Provider) getJSON(ctx context.Context, client *http.Client, url, token string, header map[string]string, out any) error {
	_, body, err := p.do(ctx, client, apiRequest{method: http.MethodGet, url: url, token: token, header: header})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s response: %w", p.Name, err)
	}
	return nil
}
