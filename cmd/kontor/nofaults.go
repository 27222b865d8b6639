//go:build !kontor_faults

package main

// crashHook is nil in a release build: no step of a run can be made to kill the process
// (the crash tests build kontor with the kontor_faults tag; see faults.go).
func crashHook() func(string) { return nil }
