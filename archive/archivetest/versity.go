// Package archivetest starts a real S3-compatible server for tests: Versity Gateway
// (versitygw) on a loopback port, serving a directory.
package archivetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials of the test server's root account.
const (
	AccessKey = "kontortestaccess"
	SecretKey = "kontortestsecret0123456789"
)

// Server is a running Versity Gateway.
type Server struct {
	Endpoint string
	Dir      string // the posix directory: DIR/BUCKET/KEY
	addr     string
	bin      string
	cmd      *exec.Cmd
	t        testing.TB
}

// Binary finds versitygw on PATH or in $GOPATH/bin.
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(string(trim(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found (make deps installs it: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

func trim(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// Start starts a server on a free loopback port; it is stopped when the test ends. Without
// the binary the test is skipped loudly (on CI, CI=true, it fails).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("S3 TESTS CANNOT RUN ON CI: " + err.Error())
		}
		t.Skip("SKIPPING S3 TEST: " + err.Error())
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	s := &Server{Endpoint: "http://" + addr, Dir: t.TempDir(), addr: addr, bin: bin, t: t}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// Restart starts the server (again) on the same address and directory.
func (s *Server) Restart() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--port", s.addr, "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	log, _ := os.Create(filepath.Join(s.t.TempDir(), "versitygw.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	for range 100 {
		if c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond); err == nil {
			_ = c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatal("versitygw did not start")
}

// Stop stops the server (an outage).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Client is an S3 client with the root credentials.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Bucket creates a bucket.
func (s *Server) Bucket(t testing.TB, name string) {
	t.Helper()
	if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// URL is the archive URL of bucket/prefix on this server, with few retries.
func (s *Server) URL(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&max_attempts=2", bucket, prefix, s.Endpoint)
}

// SetEnv sets the server's credentials in the test's environment.
func SetEnv(t testing.TB) {
	for _, kv := range Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Env is the environment that gives kontor the server's credentials.
func Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey, "AWS_REGION=us-east-1"}
}
