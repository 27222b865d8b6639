//go:build kontor_faults

package main

import (
	"os"
	"syscall"
)

// faultEnv names the environment variable that kills kontor with SIGKILL at a named step
// of a run or a worker's delivery (see jobs.RunOptions.Crash). It exists only in a binary
// built with the kontor_faults tag, as the crash tests build it: release builds have no
// such hook.
const faultEnv = "KONTOR_CRASH_AT"

// crashHook returns the hook that kills the process at step $KONTOR_CRASH_AT, or nil.
func crashHook() func(string) {
	at := os.Getenv(faultEnv)
	if at == "" {
		return nil
	}
	return func(step string) {
		if step == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
}
