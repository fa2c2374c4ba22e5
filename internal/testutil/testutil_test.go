package testutil

import (
	"os/exec"
	"strings"
	"testing"
)

// Only tests import testutil: no test helper reaches the binary.
func TestImportedOnlyByTests(t *testing.T) {
	const self = "github.com/twinme/twinme/internal/testutil"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}", "github.com/twinme/twinme/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if imp == self && pkg != self {
				t.Errorf("%s imports %s outside its _test.go files", pkg, self)
			}
		}
	}
}
