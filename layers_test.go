package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layersModule is this module's path, the prefix of its packages' imports.
const layersModule = "github.com/zentra/zentra-import"

// layersAllowed is the package map of DESIGN.md ("Layout and layering"): the packages of ours each
// package's code may import. Imports point one way, toward the packages that import nothing of ours; a
// package not listed here may import nothing of ours until it is given its place.
var layersAllowed = map[string][]string{
	".":          {"importer", "jobdir", "mapping", "sandbox", "zentra"},
	"importer":   {"atomicfile", "checkpoint", "csvfile", "jobdir", "mapping", "zentra"},
	"mapping":    {"csvfile"},
	"jobdir":     {"atomicfile", "checkpoint", "csvfile"},
	"checkpoint": {"atomicfile"},
	"csvfile":    {},
	"atomicfile": {},
	"zentra":     {},
	"sandbox":    {},
}

// TestPackageImportsPointOneWay reads the imports of every package's code (tests aside: zentra's may import
// sandbox, checkpoint's benchmark jobdir) and holds them to the package map, so that a move that would
// turn an arrow around (the reader asking the mapping, the journal asking the job directory) fails here
// with the import named, not later as an import cycle or a package that quietly does two jobs.
func TestPackageImportsPointOneWay(t *testing.T) {
	t.Parallel()
	imports := layersImports(t)
	require.Subset(t, slices.Collect(maps.Keys(imports)), slices.Collect(maps.Keys(layersAllowed)), "every package of the map exists")
	for pkg, got := range imports {
		allowed := layersAllowed[pkg]
		for _, imp := range got {
			assert.Contains(t, allowed, imp, "%s imports %s: not in the package map (layers_test.go, DESIGN.md)", pkg, imp)
		}
	}
}

// layersImports returns, for each package directory of the module (bench/ and testdata/ aside), the
// packages of ours its non-test files import, by directory relative to the module's root.
func layersImports(t *testing.T) map[string][]string {
	t.Helper()
	imports := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bench") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = []string{}
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return err
			}
			if rest, ok := strings.CutPrefix(p, layersModule+"/"); ok && !slices.Contains(imports[pkg], rest) {
				imports[pkg] = append(imports[pkg], rest)
			}
		}
		return nil
	})
	require.NoError(t, err)
	_, err = os.Stat("go.mod")
	require.NoError(t, err, "run from the module's root")
	return imports
}
