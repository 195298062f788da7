package main

import (
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestOperationsCommandsExist: every `handler <subcommand>` the runbook
// tells an operator to run is a subcommand run dispatches. Each is called
// with no arguments, an empty environment and a cancelled context, so none
// does any work: a known subcommand refuses (missing flags or settings, or
// its usage), an unknown one answers "unknown command". (Extra arguments
// would not tell them apart: run refuses those before it looks the
// subcommand up.)
func TestOperationsCommandsExist(t *testing.T) {
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	// Commands appear in code spans and fenced blocks, as `handler x` or
	// `bin/handler x`.
	var code strings.Builder
	for _, m := range regexp.MustCompile("(?s)```.*?```|`[^`\n]+`").FindAllString(string(b), -1) {
		code.WriteString(m + "\n")
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)(?:^|[\s/`+"`"+`])handler ([a-z][a-z-]*)`).FindAllStringSubmatch(code.String(), -1) {
		named[m[1]] = true
	}
	if len(named) < 3 {
		t.Fatalf("found only %v in docs/operations.md; is the parser still matching?", named)
	}
	for name := range named {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			getenv := func(string) string { return "" }
			err := run(ctx, []string{"handler", name}, getenv, io.Discard)
			if err == nil {
				t.Fatalf("handler %s with no settings succeeded; want it refused", name)
			}
			if strings.Contains(err.Error(), "unknown command") {
				t.Fatalf("docs/operations.md names handler %s, which run does not know: %v", name, err)
			}
			t.Logf("handler %s: %v", name, firstLine(err.Error()))
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
