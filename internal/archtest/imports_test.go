package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/twinme/twinme"

// rule is one direction of ARCHITECTURE.md: no package matched by from may
// import a path matched by to, except the packages in allow.
type rule struct {
	name  string
	from  func(pkg string) bool
	to    func(path string) bool
	allow map[string]string // package → why it may
}

func under(prefix string) func(string) bool {
	return func(p string) bool { return p == prefix || strings.HasPrefix(p, prefix+"/") }
}

var rules = []rule{
	{
		name: "graph calls services, never the store",
		from: under(module + "/graph"),
		to:   under(module + "/internal/store"),
	},
	{
		name: "services never import graph (only the wiring does)",
		from: under(module + "/internal"),
		to:   under(module + "/graph"),
		allow: map[string]string{
			module + "/internal/app": "the wiring package: it builds the GraphQL handler, as main does",
		},
	},
	{
		name: "only internal/store imports Bun",
		from: func(p string) bool {
			return !under(module+"/internal/store")(p) && !under(module+"/bench")(p)
		},
		to: under("github.com/uptrace/bun"),
	},
	{
		name: "migrations never import the current models",
		from: under(module + "/migrations"),
		to:   under(module + "/internal"),
	},
	{
		name: "the domain package is a leaf: standard library and apperr only",
		from: func(p string) bool { return under(module+"/internal/domain")(p) || under(module+"/internal/apperr")(p) },
		to: func(p string) bool {
			return strings.Contains(strings.SplitN(p, "/", 2)[0], ".") && p != module+"/internal/apperr"
		},
	},
}

// imports maps each package of the module (by import path) to the files
// importing each path, test files included: a test that reaches into the
// store from graph is the same shortcut.
func imports(t *testing.T) map[string]map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("archtest: module root not found at %s: %v", root, err)
	}
	out := map[string]map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := module
		if rel != "." {
			pkg = module + "/" + filepath.ToSlash(rel)
		}
		if out[pkg] == nil {
			out[pkg] = map[string][]string{}
		}
		file, _ := filepath.Rel(root, path)
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			out[pkg][p] = append(out[pkg][p], file)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportDirections(t *testing.T) {
	pkgs := imports(t)
	if len(pkgs) < 20 {
		t.Fatalf("archtest: found only %d packages; is the walk rooted at the module?", len(pkgs))
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, r := range rules {
		t.Run(r.name, func(t *testing.T) {
			checked := 0
			for _, pkg := range names {
				if !r.from(pkg) {
					continue
				}
				if _, ok := r.allow[pkg]; ok {
					continue
				}
				checked++
				for path, files := range pkgs[pkg] {
					if r.to(path) {
						t.Errorf("%s imports %s (%s)", pkg, path, strings.Join(files, ", "))
					}
				}
			}
			t.Logf("%d packages checked", checked)
		})
	}
}

// TestRulesCanFail makes sure each rule matches what it forbids, so a typo
// in a prefix cannot turn a rule into one that passes on anything.
func TestRulesCanFail(t *testing.T) {
	cases := map[string][2]string{
		"graph calls services, never the store":                          {module + "/graph", module + "/internal/store"},
		"services never import graph (only the wiring does)":             {module + "/internal/soul", module + "/graph/model"},
		"only internal/store imports Bun":                                {module + "/internal/ingest", "github.com/uptrace/bun/migrate"},
		"migrations never import the current models":                     {module + "/migrations", module + "/internal/store"},
		"the domain package is a leaf: standard library and apperr only": {module + "/internal/domain", module + "/internal/store"},
	}
	if len(cases) != len(rules) {
		t.Fatalf("archtest: %d rules, %d cases", len(rules), len(cases))
	}
	for _, r := range rules {
		c, ok := cases[r.name]
		if !ok {
			t.Fatalf("archtest: no case for rule %q", r.name)
		}
		if !r.from(c[0]) || !r.to(c[1]) {
			t.Errorf("rule %q does not forbid %s importing %s", r.name, c[0], c[1])
		}
	}
	if !rules[3].to(module+"/internal/store") || rules[4].to("context") || rules[4].to(module+"/internal/apperr") {
		t.Error("archtest: stdlib/module classification is wrong")
	}
}
