package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/store/storetest"
)

// TestServeFirstAdmin follows the README's set-up of the console: migrate, add the first
// admin with the password on standard input, serve, sign in; serve stops with exit status
// 0 when told to, and its log holds neither the password nor the session ID.
func TestServeFirstAdmin(t *testing.T) {
	url0, _ := storetest.New(t)
	db := "--database-url=" + url0
	arc := "--archive=file://" + filepath.Join(t.TempDir(), "archive")
	const password = "first-admin-password"
	var out, errs bytes.Buffer
	if code := runInput(context.Background(), []string{"migrate", db}, strings.NewReader(""), &out, &errs); code != 0 {
		t.Fatalf("migrate: %d\n%s", code, errs.String())
	}
	if code := runInput(context.Background(), []string{"user", "add", db, "ada", "--role", "admin"}, strings.NewReader(password+"\n"), &out, &errs); code != 0 {
		t.Fatalf("user add: %d\n%s", code, errs.String())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runInput(ctx, []string{"serve", db, arc, "--addr", addr}, strings.NewReader(""), &out, &logs)
	}()
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/login")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not come up: %v\n%s", err, logs.String())
		}
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(base+"/login", url.Values{"name": {"ada"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, c := range resp.Cookies() {
		if c.Name == "kontor_session" && c.HttpOnly && c.SameSite == http.SameSiteLaxMode {
			session = c.Value
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == "" {
		t.Fatalf("sign in: %s, session cookie %q", resp.Status, session)
	}
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve exited %d on stop\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if l := logs.String(); strings.Contains(l, password) || strings.Contains(l, session) || !strings.Contains(l, "console listening") {
		t.Errorf("serve's log:\n%s", l)
	}
}
