// Package chargingtest runs a real Stripe API server for tests, stripe-mock (which checks
// every request against Stripe's OpenAPI specification), behind a recording proxy that
// counts the requests and their idempotency keys and plays the card networks' part: it
// decides whether a PaymentIntent succeeds, is declined or stays processing, and answers
// a repeated idempotency key with the first answer, as Stripe does.
package chargingtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key is the API key the tests use: stripe-mock takes any test key.
const Key = "sk_test_kontor"

// Request is a request the proxy saw.
type Request struct {
	Method, Path   string
	IdempotencyKey string
	Invoice        string // metadata[invoice]
	Customer       string
	Amount         string
	Currency       string
	Replayed       bool // answered from the idempotency cache
}

// Server is stripe-mock behind the recording proxy.
type Server struct {
	URL string // the proxy's: STRIPE_API_BASE
	// Decline lists customers (cus_…) whose charges are declined; Processing those whose
	// charges stay processing (a SEPA debit on its way).
	mu         sync.Mutex
	Decline    map[string]bool
	Processing map[string]bool
	requests   []Request
	answers    map[string]answer // by idempotency key
	upstream   string
}

type answer struct {
	status int
	body   []byte
}

var (
	mockOnce sync.Once
	mockURL  string
	mockErr  error
)

// Start returns a recording proxy in front of a stripe-mock process shared by the
// package's tests. Without stripe-mock the test is skipped loudly; on CI (CI=true) it
// fails.
func Start(t testing.TB) *Server {
	t.Helper()
	mockOnce.Do(func() { mockURL, mockErr = startMock() })
	if mockErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("STRIPE TESTS CANNOT RUN ON CI: " + mockErr.Error())
		}
		t.Skip("SKIPPING STRIPE TEST: " + mockErr.Error())
	}
	s := &Server{Decline: map[string]bool{}, Processing: map[string]bool{}, answers: map[string]answer{}, upstream: mockURL}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// binary finds stripe-mock on PATH or in GOPATH/bin.
func binary() (string, error) {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p, nil
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "stripe-mock")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("stripe-mock not found (make deps installs it: go install github.com/stripe/stripe-mock@v0.203.0)")
}

// startMock starts stripe-mock on a free loopback port for the life of the test binary.
func startMock() (string, error) {
	bin, err := binary()
	if err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd := exec.Command(bin, "-http-addr", addr, "-https-addr", "127.0.0.1:") // HTTPS on a free port, unused
	if err := cmd.Start(); err != nil {
		return "", err
	}
	for range 200 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return "http://" + addr, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("stripe-mock did not start on %s", addr)
}

// IntentID is the ID of the PaymentIntent the proxy answers a charge under key with.
func IntentID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "pi_" + hex.EncodeToString(sum[:8])
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// KeysByInvoice returns the idempotency keys of the PaymentIntents requested for each
// invoice, and how many requests each invoice had.
func (s *Server) KeysByInvoice() (map[string]map[string]bool, map[string]int) {
	keys, n := map[string]map[string]bool{}, map[string]int{}
	for _, r := range s.Requests() {
		if r.Path != "/v1/payment_intents" {
			continue
		}
		if keys[r.Invoice] == nil {
			keys[r.Invoice] = map[string]bool{}
		}
		keys[r.Invoice][r.IdempotencyKey] = true
		n[r.Invoice]++
	}
	return keys, n
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	req := Request{Method: r.Method, Path: r.URL.Path, IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Invoice: form.Get("metadata[invoice]"), Customer: form.Get("customer"), Amount: form.Get("amount"), Currency: form.Get("currency")}
	s.mu.Lock()
	a, replay := s.answers[req.IdempotencyKey]
	req.Replayed = replay && req.IdempotencyKey != ""
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if !req.Replayed {
		a = s.forward(r, body, req, form)
		if req.IdempotencyKey != "" && a.status < 500 {
			s.mu.Lock()
			s.answers[req.IdempotencyKey] = a
			s.mu.Unlock()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_kontor_test")
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

// forward sends the request to stripe-mock and shapes a PaymentIntent's outcome.
func (s *Server) forward(r *http.Request, body []byte, req Request, form url.Values) answer {
	up, err := http.NewRequest(r.Method, s.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return answer{500, []byte(`{"error":{"type":"api_error","message":"proxy"}}`)}
	}
	up.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(up)
	if err != nil {
		return answer{502, []byte(`{"error":{"type":"api_error","message":"stripe-mock unreachable"}}`)}
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || r.Method != http.MethodPost || r.URL.Path != "/v1/payment_intents" {
		return answer{resp.StatusCode, out}
	}
	return s.outcome(out, req, form)
}

// outcome makes stripe-mock's PaymentIntent (always requires_payment_method) the one the
// card network would give: its ID fixed by the idempotency key, the request's metadata,
// and succeeded, processing or declined by the customer.
func (s *Server) outcome(out []byte, req Request, form url.Values) answer {
	var pi map[string]any
	if err := json.Unmarshal(out, &pi); err != nil {
		return answer{500, []byte(`{"error":{"type":"api_error","message":"bad stripe-mock answer"}}`)}
	}
	pi["id"] = IntentID(req.IdempotencyKey)
	pi["metadata"] = map[string]string{"invoice": req.Invoice}
	pi["description"] = form.Get("description")
	s.mu.Lock()
	decline, processing := s.Decline[req.Customer], s.Processing[req.Customer]
	s.mu.Unlock()
	switch {
	case decline:
		pi["status"] = "requires_payment_method"
		pi["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds", "message": "Your card has insufficient funds."}
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": "card_error", "code": "card_declined",
			"decline_code": "insufficient_funds", "message": "Your card has insufficient funds.", "payment_intent": pi}})
		return answer{402, b}
	case processing:
		pi["status"] = "processing"
	default:
		pi["status"], pi["amount_received"], pi["last_payment_error"] = "succeeded", pi["amount"], nil
	}
	b, _ := json.Marshal(pi)
	return answer{200, b}
}
