package i18n

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-community/hearth/static"
)

func TestBothLanguagesHaveTheSameMessages(t *testing.T) {
	en, err := MessageIDs("en")
	if err != nil {
		t.Fatal(err)
	}
	zh, err := MessageIDs("zh-Hans")
	if err != nil {
		t.Fatal(err)
	}
	for id := range en {
		if zh[id] == "" {
			t.Errorf("zh-Hans lacks %q", id)
		}
	}
	for id := range zh {
		if en[id] == "" {
			t.Errorf("en lacks %q", id)
		}
	}
}

// TestTemplatesUseKnownMessages finds every {{$.L.T "id"}} in the templates.
func TestTemplatesUseKnownMessages(t *testing.T) {
	en, _ := MessageIDs("en")
	re := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	n := 0
	err := fs.WalkDir(static.FS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(static.FS, path)
		for _, m := range re.FindAllSubmatch(b, -1) {
			n++
			if en[string(m[1])] == "" {
				t.Errorf("%s uses unknown message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil || n < 20 {
		t.Fatalf("walked templates: %v, %d uses", err, n)
	}
}

// TestCompiledTemplatesUseKnownMessages does the same for the quicktemplate files
// (*.qtpl, compiled to Go), which translate with l.T and a literal id.
func TestCompiledTemplatesUseKnownMessages(t *testing.T) {
	en, _ := MessageIDs("en")
	re := regexp.MustCompile(`\.T\("([a-z0-9_.]+)"[,)]`)
	root := os.DirFS("../..") // the repository, from this package's folder
	files, n := 0, 0
	err := fs.WalkDir(root, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") && path != "." {
			return fs.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".qtpl") {
			return nil
		}
		files++
		b, err := fs.ReadFile(root, path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			n++
			if en[string(m[1])] == "" {
				t.Errorf("%s uses unknown message %q", path, m[1])
			}
		}
		return nil
	})
	if err != nil || files < 3 || n < 40 {
		t.Fatalf("walked compiled templates: %v, %d files, %d uses", err, files, n)
	}
}

func TestMatchAndCanonical(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		choices []string
		accept  string
		want    string
	}{
		{nil, "", "en"},
		{nil, "zh-CN,zh;q=0.9", "zh-Hans"},
		{nil, "fr-FR,fr;q=0.9", "en"},
		{[]string{"zh-Hans"}, "en-US", "zh-Hans"},
		{[]string{"", "en"}, "zh-CN", "en"},
		{[]string{"xx-bogus"}, "zh-TW,zh;q=0.8", "zh-Hans"},
	}
	for _, c := range cases {
		if got := b.Match(c.choices, c.accept); got != c.want {
			t.Errorf("Match(%v, %q) = %q, want %q", c.choices, c.accept, got, c.want)
		}
	}
	for in, want := range map[string]string{"zh-CN": "zh-Hans", "zh": "zh-Hans", "en-GB": "en", "zh-Hans": "zh-Hans"} {
		if got, ok := Canonical(in); !ok || got != want {
			t.Errorf("Canonical(%q) = %q %v", in, got, ok)
		}
	}
	if _, ok := Canonical("fr"); ok {
		t.Error("fr accepted")
	}
	if got := b.For("zh-Hans").T("nav.login"); got != "登录" {
		t.Errorf("zh-Hans nav.login = %q", got)
	}
}
