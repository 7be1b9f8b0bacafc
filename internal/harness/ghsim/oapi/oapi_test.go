package oapi

import (
	"strings"
	"testing"
)

const testDoc = `{
 "schemas": {
  "label": {"type": "object", "required": ["name"], "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "type": {"type": "string", "enum": ["read-only", "custom"]}}},
  "user": {"type": "object", "required": ["login"], "properties": {"login": {"type": "string"}}},
  "ent": {"type": "object", "required": ["slug"], "properties": {"slug": {"type": "string"}}},
  "runner": {"type": "object", "required": ["id", "labels"], "properties": {
    "id": {"type": "integer"},
    "labels": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/label"}},
    "version": {"type": "string", "nullable": true},
    "at": {"type": "string", "format": "date-time"},
    "url": {"type": "string", "format": "uri"},
    "conclusion": {"type": "string", "enum": ["success", null]},
    "account": {"nullable": true, "anyOf": [{"$ref": "#/components/schemas/user"}, {"$ref": "#/components/schemas/ent"}]},
    "one": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    "both": {"allOf": [{"$ref": "#/components/schemas/user"}, {"type": "object", "properties": {"extra": {"type": "boolean"}}}]},
    "free": {"type": "object", "additionalProperties": true},
    "typed": {"type": "object", "additionalProperties": {"type": "integer"}}
  }}
 }
}`

func TestValidate(t *testing.T) {
	d, err := Parse([]byte(testDoc))
	if err != nil {
		t.Fatal(err)
	}
	runner := &Schema{Ref: "#/components/schemas/runner"}
	const ok = `"id": 1, "labels": [{"name": "x"}]`
	tests := []struct {
		name   string
		json   string
		strict bool
		want   []string // substrings, one per expected error; nil means valid
	}{
		{"minimal", `{` + ok + `}`, true, nil},
		{"everything", `{` + ok + `, "version": null, "at": "2024-01-02T03:04:05Z", "url": "https://x/y",
			"conclusion": null, "account": {"login": "a"}, "one": 1.5, "both": {"login": "a", "extra": true},
			"free": {"anything": [1]}, "typed": {"a": 1}}`, true, nil},
		{"null account", `{` + ok + `, "account": null}`, true, nil},
		{"missing required", `{"labels": [{"name": "x"}]}`, false, []string{`$: required property "id" missing`}},
		{"wrong type", `{"id": "1", "labels": [{"name": "x"}]}`, false, []string{"$.id: got string, want integer"}},
		{"float for integer", `{"id": 1.5, "labels": [{"name": "x"}]}`, false, []string{"$.id: got number, want integer"}},
		{"nested through ref", `{"id": 1, "labels": [{"name": "x", "type": "bogus"}]}`, false, []string{`$.labels[0].type: bogus is not one of`}},
		{"too few items", `{"id": 1, "labels": []}`, false, []string{"$.labels: 0 items, want at least 1"}},
		{"null not allowed", `{"id": null, "labels": [{"name": "x"}]}`, false, []string{"$.id: null where integer is required"}},
		{"bad date-time", `{` + ok + `, "at": "yesterday"}`, false, []string{"not an RFC 3339 date-time"}},
		{"relative uri", `{` + ok + `, "url": "/x"}`, false, []string{"not an absolute URI"}},
		{"anyOf none", `{` + ok + `, "account": {"name": "a"}}`, false, []string{"matches none of anyOf's 2 schemas"}},
		{"oneOf two", `{` + ok + `, "one": 1}`, false, []string{"matches 2 of oneOf's 2 schemas"}},
		{"allOf branch", `{` + ok + `, "both": {"extra": true}}`, false, []string{`$.both: required property "login" missing`}},
		{"typed additional", `{` + ok + `, "typed": {"a": "x"}}`, false, []string{"$.typed.a: got string, want integer"}},
		{"strict undeclared", `{` + ok + `, "nmae": 1}`, true, []string{`$: property "nmae" is not declared`}},
		{"strict nested", `{"id": 1, "labels": [{"name": "x", "typ": "custom"}]}`, true, []string{`$.labels[0]: property "typ" is not declared`}},
		{"strict allOf merges", `{` + ok + `, "both": {"login": "a", "extra": true, "other": 1}}`, true, []string{`$.both: property "other" is not declared`}},
		{"strict anyOf union", `{` + ok + `, "account": {"login": "a", "slug": "s"}}`, true, nil},
		{"lenient undeclared", `{` + ok + `, "nmae": 1}`, false, nil},
		{"not json", `{`, false, []string{"not JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Validate([]byte(tt.json), runner, Options{Strict: tt.strict})
			if len(got) != len(tt.want) {
				t.Fatalf("errors = %q, want %d matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestUnresolvedRef(t *testing.T) {
	d, err := Parse([]byte(`{"schemas": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := d.Validate([]byte(`{}`), &Schema{Ref: "#/components/schemas/missing"}, Options{})
	if len(got) != 1 || !strings.Contains(got[0], "unresolved $ref") {
		t.Fatalf("errors = %q, want an unresolved $ref", got)
	}
}
