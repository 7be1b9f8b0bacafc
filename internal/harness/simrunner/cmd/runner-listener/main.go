// Command runner-listener is bin/Runner.Listener of the sandbox's simulated actions/runner
// (package simrunner). Test harness only.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

func main() {
	exe, err := os.Executable()
	if err != nil {
		os.Exit(1)
	}
	service := "http://" + simrunner.ServiceAddr
	if v := os.Getenv(simrunner.ServiceEnv); v != "" {
		service = v
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l := &simrunner.Listener{Dir: filepath.Dir(filepath.Dir(exe)), Service: service, Stdin: os.Stdin, Out: os.Stdout, HTTP: http.DefaultClient}
	code := l.Main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
