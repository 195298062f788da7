//go:build !linux

package sandbox

import "errors"

func seccompAvailable() bool { return false }

func restrictSockets() error { return errors.New("seccomp: linux only") }
