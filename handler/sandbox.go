package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/sandbox"
)

// sandboxExec is `handler sandbox-exec ...`: it confines its own process
// and execs the import tool (see internal/sandbox). It returns only when
// that failed, with the exit status for the process; the tool was not run.
func sandboxExec(args []string, stderr io.Writer) int {
	err := sandbox.Main(args, stderr)
	fmt.Fprintln(stderr, sandbox.FailedMarker+err.Error())
	return sandbox.ExitFailed
}

// importSandbox returns how yt-dlp is to be wrapped (through this very
// binary) and what that enforces here, and says so in the log: at error
// level when nothing is enforced, warn when only part of it is.
func importSandbox(logger *slog.Logger) (func(uint16, string, []string) []string, httpapi.Notice, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, httpapi.Notice{}, fmt.Errorf("import sandbox: find this executable: %w", err)
	}
	rep := sandbox.Detect(0)
	switch {
	case rep.Full():
		logger.Info("import sandbox", "sandbox", rep.String(), "landlock_abi", rep.ABI)
	case rep.ABI == 0 && !rep.Sockets:
		logger.Error("import sandbox UNAVAILABLE: yt-dlp can reach the network outside netguard", "sandbox", rep.String(), "landlock_abi", rep.ABI)
	default:
		logger.Warn("import sandbox DEGRADED", "sandbox", rep.String(), "landlock_abi", rep.ABI)
	}
	return sandbox.Launcher{Self: self}.Wrap, httpapi.Notice{OK: rep.Full(), Detail: rep.String()}, nil
}
