package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twinme/twinme/internal/apperr"
)

// guardTransport answers requests gqlgen would answer without a code (or
// not at all) before they reach it: a method other than GET, POST and
// OPTIONS is 405; a POST that is neither JSON nor (with uploads) multipart
// is 415; a JSON body that is not one GraphQL request object, or GET
// parameters that do not decode, are 400 BAD_REQUEST. None of it echoes
// the body. Errors gqlgen's transports still write without a code (a
// broken multipart request) get BAD_REQUEST and status 400 on the way out.
func guardTransport(next http.Handler, uploads bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := context.WithValue(r.Context(), httpTransportKey{}, true)
		r = r.WithContext(ctx)
		switch r.Method {
		case http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		case http.MethodGet:
			if msg := checkGET(r); msg != "" {
				writeCodedError(w, http.StatusBadRequest, apperr.BadRequest, msg)
				return
			}
		case http.MethodPost:
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			switch {
			case err != nil:
				writeCodedError(w, http.StatusUnsupportedMediaType, apperr.BadRequest, "send a GraphQL request as application/json (or multipart/form-data for an upload)")
				return
			case mt == "application/json":
				body, err := io.ReadAll(r.Body)
				if err != nil {
					// The body limit already answered 413.
					return
				}
				if msg := checkRequestBody(body); msg != "" {
					writeCodedError(w, http.StatusBadRequest, apperr.BadRequest, msg)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			case mt == "multipart/form-data" && uploads:
			default:
				writeCodedError(w, http.StatusUnsupportedMediaType, apperr.BadRequest, "content type "+strconv.Quote(mt)+" is not supported: send application/json (or multipart/form-data for an upload)")
				return
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeCodedError(w, http.StatusMethodNotAllowed, apperr.BadRequest, "method "+r.Method+" is not allowed: use POST (or GET for queries)")
			return
		}
		cw := &codingWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		cw.finish()
	})
}

func init() {
	// A refused request is a protocol error: HTTP 422, like a parse error.
	errcode.RegisterErrorType(string(apperr.BadRequest), errcode.KindProtocol)
}

type httpTransportKey struct{}

// overHTTP reports whether ctx is a plain HTTP request (not a websocket).
func overHTTP(ctx context.Context) bool {
	v, _ := ctx.Value(httpTransportKey{}).(bool)
	return v
}

// checkGET validates the parameters of a GET request; "" when fine.
func checkGET(r *http.Request) string {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "the query string is malformed"
	}
	for _, k := range []string{"variables", "extensions"} {
		if v := q.Get(k); v != "" && !isJSONObject([]byte(v)) {
			return k + " must be a JSON object"
		}
	}
	if q.Get("query") == "" && q.Get("extensions") == "" {
		return "a GET request needs a query parameter"
	}
	return ""
}

// checkRequestBody validates a JSON request body: one object whose query
// and operationName are strings and whose variables and extensions are
// objects (each may be absent or null), valid UTF-8, nothing after it.
// It returns "" when fine.
func checkRequestBody(body []byte) string {
	if !utf8.Valid(body) {
		return "the body is not UTF-8"
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return `the body must be a JSON object {"query":…,"variables":{…}}`
	}
	var p struct {
		Query, OperationName, Variables, Extensions json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return `the body is not valid JSON: send {"query":…,"variables":{…}}`
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "the body holds data after the request object"
	}
	if !isNullOr(p.Query, '"') {
		return "query must be a string"
	}
	if !isNullOr(p.OperationName, '"') {
		return "operationName must be a string"
	}
	if !isNullOr(p.Variables, '{') {
		return "variables must be a JSON object"
	}
	if !isNullOr(p.Extensions, '{') {
		return "extensions must be a JSON object"
	}
	if len(p.Extensions) > 0 && p.Extensions[0] == '{' {
		var ext struct{ PersistedQuery json.RawMessage }
		if json.Unmarshal(p.Extensions, &ext) != nil || !isNullOr(ext.PersistedQuery, '{') {
			return "extensions.persistedQuery must be an object"
		}
	}
	return ""
}

func isNullOr(raw json.RawMessage, first byte) bool {
	return len(raw) == 0 || string(raw) == "null" || raw[0] == first
}

func isJSONObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// writeCodedError writes {"errors":[{"message","extensions":{"code"}}]}.
func writeCodedError(w http.ResponseWriter, status int, code apperr.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}

// codingWriter holds back an error response (status 400 or above) so
// that errors gqlgen's transports write without extensions.code get
// BAD_REQUEST (and 400 instead of gqlgen's 422 for a broken multipart
// request). Other responses pass straight through.
type codingWriter struct {
	http.ResponseWriter
	status int
	held   *bytes.Buffer
}

func (c *codingWriter) WriteHeader(status int) {
	if c.status != 0 {
		return
	}
	c.status = status
	if status >= 400 {
		c.held = &bytes.Buffer{}
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *codingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.WriteHeader(http.StatusOK)
	}
	if c.held != nil {
		return c.held.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *codingWriter) Flush() {
	if c.held != nil {
		return
	}
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (c *codingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *codingWriter) finish() {
	if c.held == nil {
		return
	}
	var resp struct {
		Errors []map[string]any `json:"errors"`
	}
	if json.Unmarshal(c.held.Bytes(), &resp) != nil || len(resp.Errors) == 0 {
		c.ResponseWriter.WriteHeader(c.status)
		_, _ = c.ResponseWriter.Write(c.held.Bytes())
		return
	}
	uncoded := false
	for _, e := range resp.Errors {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if _, ok := ext["code"]; !ok {
			ext["code"] = string(apperr.BadRequest)
			uncoded = true
		}
	}
	status := c.status
	if uncoded && status == http.StatusUnprocessableEntity {
		status = http.StatusBadRequest
	}
	c.Header().Set("Content-Type", "application/json")
	c.Header().Del("Content-Length")
	c.ResponseWriter.WriteHeader(status)
	_ = json.NewEncoder(c.ResponseWriter).Encode(resp)
}

// noSubscriptionsOverHTTP refuses a subscription sent by POST or GET:
// gqlgen would hold the request open for the stream's lifetime.
type noSubscriptionsOverHTTP struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = noSubscriptionsOverHTTP{}

func (noSubscriptionsOverHTTP) ExtensionName() string                   { return "TwinmeNoSubscriptionsOverHTTP" }
func (noSubscriptionsOverHTTP) Validate(graphql.ExecutableSchema) error { return nil }

func (noSubscriptionsOverHTTP) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation != nil && oc.Operation.Operation == ast.Subscription && overHTTP(ctx) {
		e := gqlerror.Errorf("subscriptions need a websocket (graphql-transport-ws or graphql-ws) on /graphql")
		e.Extensions = map[string]any{"code": string(apperr.BadRequest)}
		return e
	}
	return nil
}
