package runnertoken

import (
	"reflect"
	"strings"
	"testing"
)

func TestRegistrationRoundTrip(t *testing.T) {
	regs := []Registration{
		{URL: "https://github.com/octo", Token: "T", Name: "ghr-i-1"},
		{URL: "https://ghes.example/octo/app", Token: "A=B", Name: "n", Labels: []string{"self-hosted", "gpu large"}, RunnerGroup: "Build Farm", Ephemeral: true},
	}
	for _, r := range regs {
		doc, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(doc, RegistrationHeader+"\n") {
			t.Errorf("document does not start with the header: %q", doc)
		}
		jit, got, err := ParseToken(doc)
		if err != nil || jit != "" || !reflect.DeepEqual(*got, r) {
			t.Errorf("ParseToken(Encode(%+v)) = %q, %+v, %v", r, jit, got, err)
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, r := range []Registration{
		{Token: "t", Name: "n"},
		{URL: "u", Token: "t\nurl=evil", Name: "n"},
		{URL: "u", Token: "t", Name: "n", Labels: []string{"a,b"}},
		{URL: "u", Token: "t", Name: "n", Labels: []string{""}},
	} {
		if _, err := r.Encode(); err == nil {
			t.Errorf("Encode(%+v) accepted", r)
		}
	}
}

func TestParseToken(t *testing.T) {
	if jit, reg, err := ParseToken("eyJhIjoiYiJ9+/=="); jit == "" || reg != nil || err != nil {
		t.Errorf("JIT config not recognised: %q %v %v", jit, reg, err)
	}
	for in, want := range map[string]string{
		"":                                          "unknown format",
		"not base64!":                               "unknown format",
		"ghr-registration-v2\nurl=u":                "unknown format",
		"ghr-registration-v1\nurl=u\ntoken=t":       "required",
		"ghr-registration-v1\nurl=u\nbogus":         "not key=value",
		"ghr-registration-v1\nreplace=true":         "unknown key replace",
		"ghr-registration-v1\nephemeral=yes\nurl=u": "want true or false",
	} {
		if _, _, err := ParseToken(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseToken(%q) error %v, want %q", in, err, want)
		}
	}
	if err := ValidateJIT("abc\n"); err == nil {
		t.Error("ValidateJIT accepted a newline")
	}
}

// FuzzParseToken: ParseToken never panics, and whatever it accepts as a registration encodes
// back to a document it reads the same way.
func FuzzParseToken(f *testing.F) {
	f.Add("ghr-registration-v1\nurl=u\ntoken=t\nname=n\nlabels=a,b\nruner_group=g\nephemeral=true\n")
	f.Add("eyJhIjoiYiJ9")
	f.Fuzz(func(t *testing.T, in string) {
		_, reg, err := ParseToken(in)
		if err != nil || reg == nil {
			return
		}
		doc, err := reg.Encode()
		if err != nil {
			return // e.g. an empty label from "labels=a,,b": the launcher side refuses it
		}
		_, again, err := ParseToken(doc)
		if err != nil || !reflect.DeepEqual(again, reg) {
			t.Fatalf("round trip of %+v: %+v, %v", reg, again, err)
		}
	})
}
